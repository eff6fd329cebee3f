#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include "CShimsCurses.h"
#include <ncursesw/ncurses.h>
#include <term.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t wf_active = 0;
static struct termios wf_saved_termios;
static int wf_have_termios = 0;
// Terminfo strings captured at start so the signal handler only needs write(2).
static char wf_leave_sequence[256];
static size_t wf_leave_length = 0;

static const int wf_fatal_signals[] = { SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
                                        SIGTERM, SIGINT, SIGHUP, SIGQUIT };
#define WF_SIGNAL_COUNT (sizeof(wf_fatal_signals) / sizeof(wf_fatal_signals[0]))
static struct sigaction wf_previous_actions[WF_SIGNAL_COUNT];
static int wf_handlers_installed = 0;
static int wf_atexit_registered = 0;

static void wf_append_capability(const char *name) {
    char *value = tigetstr((char *)name);
    if (value == NULL || value == (char *)-1) return;
    size_t length = strlen(value);
    if (wf_leave_length + length >= sizeof(wf_leave_sequence)) return;
    memcpy(wf_leave_sequence + wf_leave_length, value, length);
    wf_leave_length += length;
}

void wf_curses_restore_terminal(void) {
    if (!wf_active) return;
    wf_active = 0;
    // Async-signal-safe part first, so the terminal is usable even if endwin cannot run.
    if (wf_have_termios) tcsetattr(STDIN_FILENO, TCSANOW, &wf_saved_termios);
    if (wf_leave_length > 0) {
        ssize_t ignored = write(STDOUT_FILENO, wf_leave_sequence, wf_leave_length);
        (void)ignored;
    }
    endwin();
}

static int wf_signal_index(int signal_number) {
    for (size_t i = 0; i < WF_SIGNAL_COUNT; i++) {
        if (wf_fatal_signals[i] == signal_number) return (int)i;
    }
    return -1;
}

static void wf_signal_handler(int signal_number) {
    wf_curses_restore_terminal();
    int index = wf_signal_index(signal_number);
    if (index >= 0) sigaction(signal_number, &wf_previous_actions[index], NULL);
    switch (signal_number) {
    case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP:
        // A fault: returning re-executes the faulting instruction, which now reaches the previous handler
        // (the Swift runtime's backtracer or the default action) with the original context.
        return;
    default:
        raise(signal_number);
    }
}

static void wf_atexit_handler(void) { wf_curses_restore_terminal(); }

static void wf_install_restore_handlers(void) {
    if (!wf_atexit_registered) {
        atexit(wf_atexit_handler);
        wf_atexit_registered = 1;
    }
    if (wf_handlers_installed) return;
    for (size_t i = 0; i < WF_SIGNAL_COUNT; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = wf_signal_handler;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_ONSTACK;
        sigaction(wf_fatal_signals[i], &action, &wf_previous_actions[i]);
    }
    wf_handlers_installed = 1;
}

int wf_curses_start(void) {
    if (wf_active) return 0;
    setlocale(LC_ALL, "");
    if (tcgetattr(STDIN_FILENO, &wf_saved_termios) == 0) wf_have_termios = 1;
    if (newterm(NULL, stdout, stdin) == NULL) return -1;
    wf_leave_length = 0;
    wf_append_capability("sgr0");
    wf_append_capability("cnorm");
    wf_append_capability("rmcup");
    wf_active = 1;
    wf_install_restore_handlers();
    raw();          // ctrl-c arrives as a key: it must never kill the console
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    return 0;
}

void wf_curses_stop(void) { wf_curses_restore_terminal(); }

int wf_curses_is_active(void) { return wf_active ? 1 : 0; }

int wf_curses_rows(void) {
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    (void)cols;
    return rows;
}

int wf_curses_cols(void) {
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    (void)rows;
    return cols;
}

int wf_curses_color_count(void) { return has_colors() ? COLORS : 0; }

int wf_curses_color_pair_count(void) { return has_colors() ? COLOR_PAIRS : 0; }

int wf_curses_init_pair(int pair, int foreground, int background) {
    return init_pair((short)pair, (short)foreground, (short)background);
}

uint32_t wf_curses_attributes(int bold, int dim, int underline, int reverse, int italic) {
    attr_t attributes = A_NORMAL;
    if (bold) attributes |= A_BOLD;
    if (dim) attributes |= A_DIM;
    if (underline) attributes |= A_UNDERLINE;
    if (reverse) attributes |= A_REVERSE;
#ifdef A_ITALIC
    if (italic) attributes |= A_ITALIC;
#else
    (void)italic;
#endif
    return (uint32_t)attributes;
}

uint32_t wf_curses_color_pair(int pair) { return (uint32_t)COLOR_PAIR(pair); }

int wf_curses_draw(int row, int col, const wchar_t *text, int length, uint32_t attributes, int pair) {
    attr_set((attr_t)attributes, (short)pair, NULL);
    return mvaddnwstr(row, col, text, length);
}

void wf_curses_present(int at_row, int at_col, int show_cursor) {
    if (show_cursor) {
        move(at_row, at_col);
        curs_set(1);
    } else {
        curs_set(0);
    }
    refresh();
}

void wf_curses_invalidate(void) { clearok(stdscr, TRUE); }

int wf_curses_read_key(uint32_t *character) {
    wint_t value = 0;
    int result = get_wch(&value);
    if (result == ERR) return WF_KEY_NONE;
    if (result == OK) {
        *character = (uint32_t)value;
        return WF_KEY_CHAR;
    }
    switch (value) {
    case KEY_UP: return WF_KEY_UP;
    case KEY_DOWN: return WF_KEY_DOWN;
    case KEY_LEFT: return WF_KEY_LEFT;
    case KEY_RIGHT: return WF_KEY_RIGHT;
    case KEY_PPAGE: return WF_KEY_PAGE_UP;
    case KEY_NPAGE: return WF_KEY_PAGE_DOWN;
    case KEY_HOME: return WF_KEY_HOME;
    case KEY_END: return WF_KEY_END;
    case KEY_BTAB: return WF_KEY_BACK_TAB;
    case KEY_BACKSPACE: return WF_KEY_BACKSPACE;
    case KEY_DC: return WF_KEY_DELETE;
    case KEY_ENTER: return WF_KEY_ENTER;
    case KEY_RESIZE: return WF_KEY_RESIZE;
    default: return WF_KEY_OTHER;
    }
}
