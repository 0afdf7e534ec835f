/* SPDX-License-Identifier: Apache-2.0 */
/* One Check suite per module; runner.c gathers them. */
#ifndef MQTLS_TEST_SUITES_H
#define MQTLS_TEST_SUITES_H

#include <check.h>

Suite *error_suite(void);
Suite *fake_suite(void);
Suite *utf8_suite(void);
Suite *topic_suite(void);
Suite *codec_suite(void);
Suite *codec_random_suite(void);
Suite *store_suite(void);
Suite *backoff_suite(void);
Suite *store_file_suite(void);
Suite *client_suite(void);
Suite *session_suite(void);
Suite *tcp_posix_suite(void);
Suite *tls_config_suite(void);
Suite *tls_pipe_suite(void);
Suite *signer_suite(void);
Suite *tls_explain_suite(void);
Suite *blobs_suite(void);
Suite *flash_sim_suite(void);
Suite *blobs_flash_suite(void);
Suite *store_flash_suite(void);
Suite *client_store_suite(void);
Suite *client_open_suite(void);
Suite *modem_suite(void);
Suite *castore_suite(void);
Suite *ca_update_suite(void);
Suite *identity_suite(void);

#endif
