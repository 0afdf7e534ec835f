/* SPDX-License-Identifier: Apache-2.0 */
/* Reset, the vector table and the board: SysTick, UART0, the painted
 * stack. Bare metal, no vendor headers: the registers are written out. */
#include "ports/qemu-mps2/board.h"
#include "ports/qemu-mps2/semihost.h"

#include <string.h>

#define REG(addr) (*(volatile uint32_t *)(addr))
/* SysTick (Armv7-M system control space). */
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
/* CMSDK APB UART0. */
#define UART0 0x40004000u
#define UART_DATA REG(UART0 + 0x00u)
#define UART_STATE REG(UART0 + 0x04u) /* bit 0: TX full, bit 1: RX full */
#define UART_CTRL REG(UART0 + 0x08u)  /* bit 0: TX enable, bit 1: RX enable, bit 3: RX interrupt */
#define UART_INTCLEAR REG(UART0 + 0x0Cu)
#define NVIC_ISER0 REG(0xE000E100u)    /* IRQ 0: UART0 RX on mps2-an385/386 */
#define UART_BAUDDIV REG(UART0 + 0x10u)

#define STACK_PAINT 0xC5C5C5C5u

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];
int main(void);

static volatile uint32_t ticks;
static uint64_t halted_us;

void mps2_reset(void);
void mps2_systick(void);
void mps2_fault(void);
void mps2_uart0_rx(void);

/* A byte came in: the interrupt only wakes a core halted in WFI; the
 * superloop reads the byte. */
void mps2_uart0_rx(void)
{
    UART_INTCLEAR = 2u;
}

/* The watchdog, simulated in SysTick as a board's independent watchdog
 * counts: the milliseconds since the superloop last fed it; past the
 * limit the part resets (here: the emulator stops, saying so). */
static volatile uint32_t wd_limit, wd_since, wd_worst;

void mps2_systick(void)
{
    ticks++;
    if (wd_limit != 0) {
        if (++wd_since > wd_worst)
            wd_worst = wd_since;
        if (wd_since > wd_limit) {
            sh_puts("mps2: WATCHDOG RESET: the superloop did not run for longer than the limit\n");
            sh_exit(4); /* the host sees 1: semihosting's exit has no code */
        }
    }
}

void board_watchdog_start(uint32_t limit_ms)
{
    wd_since = 0;
    wd_limit = limit_ms;
}

void board_watchdog_feed(void)
{
    wd_since = 0;
}

uint32_t board_watchdog_worst_ms(void)
{
    return wd_worst;
}

void mps2_fault(void)
{
    sh_puts("mps2: fault\n");
    sh_exit(3);
}

/* Initial stack, then handlers: reset, NMI, hard fault, memory, bus,
 * usage faults, four reserved, SVC, debug, reserved, PendSV, SysTick;
 * then IRQ 0 (UART0 RX) and IRQ 1 (UART0 TX, not enabled). */
__attribute__((section(".vectors"), used)) static void (*const vectors[18])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, mps2_reset, mps2_fault, mps2_fault, mps2_fault,
    mps2_fault, mps2_fault, 0, 0, 0, 0, mps2_fault, mps2_fault, 0, mps2_fault, mps2_systick,
    mps2_uart0_rx, mps2_fault,
};

void mps2_reset(void)
{
    uint32_t *p, *sp;
    /* Paint the stack below the frame we run in, to find the high-water
     * mark later. */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = __stack_bottom; p + 16 < sp; p++)
        *p = STACK_PAINT;
    memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
    memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
    sh_exit(main());
}

void board_init(void)
{
    SYST_RVR = MPS2_SYSCLK_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
    UART_BAUDDIV = 16u;
    UART_CTRL = 3u | 8u; /* TX, RX, and the RX interrupt that ends a WFI */
    NVIC_ISER0 = 1u;
}

uint32_t board_ms(void)
{
    return ticks;
}

/* Microseconds since board_init: SysTick's count within the tick. */
static uint64_t board_us(void)
{
    uint32_t t, v;
    do {
        t = ticks;
        v = SYST_CVR;
    } while (t != ticks);
    return (uint64_t)t * 1000u + (MPS2_SYSCLK_HZ / 1000u - 1u - v) / (MPS2_SYSCLK_HZ / 1000000u);
}

void board_idle(void)
{
    const uint64_t t0 = board_us();
    __asm__ volatile("wfi");
    halted_us += board_us() - t0;
}

uint64_t board_busy_us(void)
{
    return board_us() - halted_us;
}

void board_sleep_ms(uint32_t ms)
{
    const uint32_t t0 = ticks;
    while (ticks - t0 < ms)
        board_idle();
}

int uart_getc(uint8_t *out)
{
    if ((UART_STATE & 2u) == 0)
        return 0;
    *out = (uint8_t)UART_DATA;
    return 1;
}

int uart_putc(uint8_t c)
{
    if (UART_STATE & 1u)
        return 0;
    UART_DATA = c;
    return 1;
}

static int line_getc(void *ctx, uint8_t *out)
{
    (void)ctx;
    return uart_getc(out);
}

static int line_putc(void *ctx, uint8_t c)
{
    (void)ctx;
    return uart_putc(c);
}

static uint32_t clock_ms(void *ctx)
{
    (void)ctx;
    return ticks;
}

static void line_idle(void *ctx)
{
    (void)ctx;
    board_idle();
}

static void clock_sleep(void *ctx, uint32_t ms)
{
    (void)ctx;
    board_sleep_ms(ms);
}

void board_modem_line(modem_line *out)
{
    out->ctx = NULL;
    out->getc = line_getc;
    out->putc = line_putc;
    out->now_ms = clock_ms;
    out->idle = line_idle;
}

void board_clock(mqtls_clock *out)
{
    out->ctx = NULL;
    out->now_ms = clock_ms;
    out->sleep_ms = clock_sleep;
    out->now_s = NULL;
}

size_t board_stack_high_water(void)
{
    const uint32_t *p = __stack_bottom;
    while (p < __stack_top && *p == STACK_PAINT)
        p++;
    return (size_t)((const char *)__stack_top - (const char *)p);
}
