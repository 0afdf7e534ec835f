/* SPDX-License-Identifier: Apache-2.0 */
/* Runs every unit suite. Exit status 0 only when every test passed.
 * Usage: unit_tests [suite-name]   (CK_RUN_SUITE / CK_RUN_CASE work too) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls_mbedtls.h"
#include "test/unit/suites.h"

int main(int argc, char **argv)
{
    Suite *(*const suites[])(void) = {error_suite, fake_suite, utf8_suite, topic_suite, codec_suite,
                                      codec_random_suite, tcp_posix_suite,
                                      store_suite, store_file_suite, backoff_suite, client_suite, session_suite,
                                      tls_config_suite,
                                      tls_pipe_suite, signer_suite, tls_explain_suite, blobs_suite, flash_sim_suite, blobs_flash_suite, store_flash_suite, client_store_suite, client_open_suite, modem_suite, castore_suite,
                                      ca_update_suite, identity_suite};
    SRunner *runner = srunner_create(NULL);
    size_t i;
    int failed;

    for (i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        Suite *s = suites[i]();
        srunner_add_suite(runner, s);
    }
    printf("suites built against %s\n", mqtls_tls_backend());
    if (argc > 1)
        srunner_run(runner, argv[1], NULL, CK_NORMAL);
    else
        srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
