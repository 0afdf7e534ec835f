/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the integration suites (real brokers on loopback). Exit status 0
 * only when every test passed. Usage: integration_tests [suite-name] */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "tls/tls_mbedtls.h"

Suite *tls_broker_suite(void);
Suite *client_broker_suite(void);
Suite *rollover_suite(void);
Suite *onboarding_suite(void);
Suite *tools_suite(void);
Suite *pkcs11_suite(void);

int main(int argc, char **argv)
{
    SRunner *runner = srunner_create(tls_broker_suite());
    char tmp[] = "/tmp/mqtls-it-XXXXXX", cmd[64];
    int failed;

    /* Every broker's config and log go under one directory, removed here:
     * a failed test's process ends without its teardown. */
    if (mkdtemp(tmp) == NULL || setenv("MQTLS_TEST_TMP", tmp, 1) != 0)
        return EXIT_FAILURE;
    srunner_add_suite(runner, client_broker_suite());
    srunner_add_suite(runner, rollover_suite());
    srunner_add_suite(runner, onboarding_suite());
    srunner_add_suite(runner, tools_suite());
    srunner_add_suite(runner, pkcs11_suite());

    printf("suites built against %s\n", mqtls_tls_backend());
    if (argc > 1)
        srunner_run(runner, argv[1], NULL, CK_NORMAL);
    else
        srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
