/* SPDX-License-Identifier: Apache-2.0 */
/* mbedTLS 3.6 without PSA crypto, as a TLS 1.2-only device that saves
 * PSA's flash builds it (test/fwprofile/mbedtls36_device_config.h): make
 * check builds the host's 3.6 with this user configuration file
 * (MBEDTLS_USER_CONFIG_FILE, `make MBEDTLS=3.6-legacy`) and runs the unit
 * suites on it, so mqtls's legacy crypto path on 3.6 (tls_compat_crypto.c)
 * is tested, not only compiled. TLS 1.3 needs PSA: it goes too. */
#undef MBEDTLS_PSA_CRYPTO_C
#undef MBEDTLS_USE_PSA_CRYPTO
#undef MBEDTLS_PSA_CRYPTO_CLIENT
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#undef MBEDTLS_PSA_ITS_FILE_C
#undef MBEDTLS_SSL_PROTO_TLS1_3
#undef MBEDTLS_LMS_C
/* And, as that device, restartable elliptic curves: the unit suites
 * then run a handshake in slices that pauses its ECC work
 * (mqtls_tls_config_set_slices()). */
#define MBEDTLS_ECP_RESTARTABLE
