/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — what the shared library exports. It is built with
 * -fvisibility=hidden; the public headers put their declarations between
 * MQTLS_API_BEGIN and MQTLS_API_END, so those, and only those, are
 * exported (make install-check lists the library's symbols and compares
 * them with the headers). Other compilers see empty macros. */
#ifndef MQTLS_NET_API_H
#define MQTLS_NET_API_H

#if defined(__GNUC__) || defined(__clang__)
#define MQTLS_API_BEGIN _Pragma("GCC visibility push(default)")
#define MQTLS_API_END _Pragma("GCC visibility pop")
#else
#define MQTLS_API_BEGIN
#define MQTLS_API_END
#endif

#endif
