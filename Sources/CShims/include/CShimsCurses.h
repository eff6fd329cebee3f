#ifndef WINFLEET_CSHIMS_CURSES_H
#define WINFLEET_CSHIMS_CURSES_H
// ncurses for Swift: real functions for what ncurses offers only as macros (getmaxyx, COLOR_PAIR, the
// A_* attribute bits, KEY_* codes folded into one small enum), wide-character drawing, and the terminal
// restore that must run on every exit path: normal stop, exit(), and fatal signals (SIGSEGV, SIGABRT,
// SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGTERM, SIGINT, SIGHUP, SIGQUIT). The signal handler puts the terminal
// back (saved termios, terminfo rmcup/cnorm/sgr0 written with write(2), then endwin) and hands the signal
// on to whatever handler was installed before (the Swift runtime's backtracer, or the default action).

#include <stdint.h>
#include <wchar.h>

/// Keys as the console knows them (ncurses' KEY_* codes are macros and vary by build).
enum {
    WF_KEY_NONE = 0,
    WF_KEY_CHAR = 1,
    WF_KEY_UP, WF_KEY_DOWN, WF_KEY_LEFT, WF_KEY_RIGHT,
    WF_KEY_PAGE_UP, WF_KEY_PAGE_DOWN, WF_KEY_HOME, WF_KEY_END,
    WF_KEY_BACK_TAB, WF_KEY_BACKSPACE, WF_KEY_DELETE, WF_KEY_ENTER, WF_KEY_RESIZE,
    WF_KEY_OTHER
};

/// setlocale(LC_ALL, ""), initscr, raw, noecho, nonl, keypad, short ESC delay, hidden cursor, colours
/// (with the terminal's default colours available as -1), crash restore installed.
/// Returns 0 on success, -1 when the terminal cannot be initialised.
int wf_curses_start(void);
/// endwin, if started. Safe to call more than once.
void wf_curses_stop(void);
/// 1 while curses owns the terminal.
int wf_curses_is_active(void);

/// getmaxyx(stdscr).
int wf_curses_rows(void);
int wf_curses_cols(void);
/// COLORS when the terminal has colours, else 0.
int wf_curses_color_count(void);
/// COLOR_PAIRS when the terminal has colours, else 0.
int wf_curses_color_pair_count(void);
int wf_curses_init_pair(int pair, int foreground, int background);

/// The attr_t for the given attributes: A_BOLD, A_DIM, A_UNDERLINE, A_REVERSE, A_ITALIC.
uint32_t wf_curses_attributes(int bold, int dim, int underline, int reverse, int italic);
/// COLOR_PAIR(pair).
uint32_t wf_curses_color_pair(int pair);

/// Draws `length` wide characters at (row, col) with the attributes and colour pair.
int wf_curses_draw(int row, int col, const wchar_t *text, int length, uint32_t attributes, int pair);
/// Places the cursor (visible) or hides it, then refreshes the screen.
void wf_curses_present(int at_row, int at_col, int show_cursor);
/// Forces a full repaint on the next present (after a resize).
void wf_curses_invalidate(void);

/// Reads one key without waiting. Returns a WF_KEY_* kind; for WF_KEY_CHAR stores the character.
int wf_curses_read_key(uint32_t *character);

/// Restores the terminal now (what the signal and atexit handlers call). Idempotent.
void wf_curses_restore_terminal(void);

#endif
