/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls port for QEMU mps2-an386 (Cortex-M4): the board. A worked example
 * of what a port supplies: a millisecond clock (SysTick), a byte pipe to
 * the modem (the CMSDK UART), and where entropy, calendar time and the
 * flash come from (semihosting here; the TRNG, the RTC and the flash
 * controller on a real board). Everything is polled: a superloop. */
#ifndef MPS2_BOARD_H
#define MPS2_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "net/clock.h"
#include "ports/qemu-mps2/modem.h"

#define MPS2_SYSCLK_HZ 25000000u /* QEMU's mps2 system clock */

/* Starts SysTick at 1 kHz and UART0. */
void board_init(void);
/* Milliseconds since board_init (wraps after 49.7 days). */
uint32_t board_ms(void);
/* Sleeps ms with the core halted between SysTicks (WFI). */
void board_sleep_ms(uint32_t ms);
/* Halts the core until the next interrupt (WFI), and counts the time. */
void board_idle(void);
/* Microseconds since board_init not spent halted. Under QEMU's -icount
 * shift=0 one microsecond of the board's clock is 1,000 instructions, so
 * this counts the instructions executed (in thousands). */
uint64_t board_busy_us(void);

/* UART0 (CMSDK APB UART at 0x40004000): one byte in or out, never
 * blocking. 1 and the byte, or 0 when none is waiting / no room. */
int uart_getc(uint8_t *out);
int uart_putc(uint8_t c);

/* UART0 as the modem's serial line, and SysTick as mqtls's clock. */
void board_modem_line(modem_line *out);
void board_clock(mqtls_clock *out);

/* The watchdog (simulated: SysTick counts what an independent watchdog
 * would): once started, the part resets when it is not fed for more than
 * limit_ms; the longest time it went unfed, in ms. */
void board_watchdog_start(uint32_t limit_ms);
void board_watchdog_feed(void);
uint32_t board_watchdog_worst_ms(void);

/* The stack's lowest address ever used so far (painted at reset). */
size_t board_stack_high_water(void);

#endif
