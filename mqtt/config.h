/* mqtls — compile-time configuration of the MQTT layer.
 *
 * Every option has a default here. To change one, write your own header and
 * build with -DMQTLS_CONFIG_FILE='"my_mqtls_config.h"'; it is included first,
 * so its #defines win.
 */
#ifndef MQTLS_MQTT_CONFIG_H
#define MQTLS_MQTT_CONFIG_H

#ifdef MQTLS_CONFIG_FILE
#include MQTLS_CONFIG_FILE
#endif

#include <stdint.h>

/* Validate strings a machine word at a time while they are plain ASCII.
 * Costs about 100 bytes of code; on by default where words are 64 bits
 * (hosts, gateways), off on 32-bit microcontrollers where flash counts more
 * than the few cycles saved. */
#ifndef MQTLS_CONFIG_WORD_SCAN
#if UINTPTR_MAX > 0xFFFFFFFFu
#define MQTLS_CONFIG_WORD_SCAN 1
#else
#define MQTLS_CONFIG_WORD_SCAN 0
#endif
#endif

#if MQTLS_CONFIG_WORD_SCAN != 0 && MQTLS_CONFIG_WORD_SCAN != 1
#error "MQTLS_CONFIG_WORD_SCAN must be 0 or 1"
#endif

#endif
