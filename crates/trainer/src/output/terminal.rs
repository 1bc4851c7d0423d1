//! Giving the terminal back when the process exits while Burn's TUI holds it: the TUI turns on
//! raw mode, the alternate screen and mouse capture, and undoes them only when it is dropped,
//! which [`std::process::exit`] never does.

use std::io::{self, Write};

use crossterm::cursor::Show;
use crossterm::event::DisableMouseCapture;
use crossterm::execute;
use crossterm::terminal::{LeaveAlternateScreen, disable_raw_mode};

/// Turns off what the TUI turned on: raw mode (a no-op when it is off), mouse capture and the
/// alternate screen, and shows the cursor.
pub fn restore() -> io::Result<()> {
    let raw = disable_raw_mode();
    leave_screen(&mut io::stdout())?;
    raw
}

/// Writes to `out` the commands that end mouse capture and the alternate screen and show the
/// cursor.
fn leave_screen(out: &mut impl Write) -> io::Result<()> {
    execute!(out, DisableMouseCapture, LeaveAlternateScreen, Show)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_screen_commands_leave_the_alternate_screen_and_show_the_cursor() {
        let mut out = Vec::new();
        leave_screen(&mut out).expect("written");
        let text = String::from_utf8(out).expect("ANSI text");
        assert!(
            text.contains("\x1b[?1049l"),
            "alternate screen left: {text:?}"
        );
        assert!(text.contains("\x1b[?25h"), "cursor shown: {text:?}");
        assert!(text.contains("\x1b[?1000l"), "mouse capture off: {text:?}");
    }
}
