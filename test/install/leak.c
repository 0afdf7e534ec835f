/* SPDX-License-Identifier: Apache-2.0 */
/* Must NOT compile with a consumer's flags: mqtls's headers are only
 * <mqtls/...>, never a top-level <mqtt/...> (test_install.sh). */
#include <mqtt/client.h>
int main(void) { return 0; }
