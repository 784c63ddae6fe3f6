//! Terminal output: live progress on a TTY, plain timestamped lines elsewhere (CI, pipes).
//! The only module that knows indicatif.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::address::Address;
use crate::render::style::Style;
use crate::reporter::{Reporter, Tally, Verb, seconds, timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Decisions about output made once from the environment.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub color: bool,
    pub live: bool,
    /// Show every progress message of a running step, not one every `PROGRESS_EVERY`.
    pub verbose: bool,
}

/// How often a running step's progress is shown without `--verbose`.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);
/// How often the run's status line is written without a terminal.
const STATUS_EVERY: Duration = Duration::from_secs(60);

impl Printer {
    pub fn detect(choice: ColorChoice, verbose: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !ci && !no_color && std::io::stdout().is_terminal(),
        };
        Printer { color, live: tty && !ci, verbose }
    }

    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("\x1b[{}m{text}\x1b[0m", style.ansi()) } else { text.to_string() }
    }

    pub fn reporter(&self) -> Box<dyn Reporter> {
        if self.live { Box::new(Bars::new()) } else { Box::new(Lines { verbose: self.verbose, shown: Mutex::default(), status: Mutex::default() }) }
    }
}

/// One timestamped line per event, on stderr; a running step's progress every
/// `PROGRESS_EVERY` (every message with `--verbose`); the run's status line every
/// `STATUS_EVERY` while something runs.
pub struct Lines {
    verbose: bool,
    /// When each running step's progress was last shown.
    shown: Mutex<HashMap<String, std::time::Instant>>,
    /// Where the run stands, and when that was last written.
    status: Mutex<Option<(Tally, std::time::Instant)>>,
}

impl Lines {
    fn tally(&self, change: impl FnOnce(&mut Tally)) {
        let mut status = self.status.lock().unwrap();
        let Some((tally, written)) = status.as_mut() else { return };
        change(tally);
        if !tally.is_over() && written.elapsed() >= STATUS_EVERY {
            *written = std::time::Instant::now();
            eprintln!("{} status: {}", timestamp(), tally.line(true));
        }
    }
}

impl Reporter for Lines {
    fn planned(&self, steps: &[(Address, Verb)]) {
        *self.status.lock().unwrap() = Some((Tally::new(steps), std::time::Instant::now()));
    }

    fn started(&self, address: &Address, verb: Verb) {
        eprintln!("{} {} {address}", timestamp(), verb.doing());
        self.tally(|t| t.started(address, verb));
    }

    fn finished(&self, address: &Address, verb: Verb, result: Result<&str, &str>, elapsed: Duration) {
        match result {
            Ok("") => eprintln!("{} {} {address} in {}", timestamp(), verb.done(), seconds(elapsed)),
            Ok(id) => eprintln!("{} {} {address} in {} ({id})", timestamp(), verb.done(), seconds(elapsed)),
            Err(e) => eprintln!("{} failed {} {address} after {}: {e}", timestamp(), verb.doing(), seconds(elapsed)),
        }
        self.tally(|t| t.finished(address, verb));
        let _ = std::io::stderr().flush();
    }

    fn note(&self, message: &str) {
        eprintln!("{} {message}", timestamp());
    }

    fn progress(&self, address: &Address, verb: Verb, message: &str) {
        {
            let mut shown = self.shown.lock().unwrap();
            let last = shown.entry(address.to_string()).or_insert_with(std::time::Instant::now);
            if self.verbose || last.elapsed() >= PROGRESS_EVERY {
                *last = std::time::Instant::now();
                eprintln!("{} still {} {address}: {message}", timestamp(), verb.doing());
            }
        }
        self.tally(|t| t.said(address, verb, message));
    }
}

/// One live line per running resource with its elapsed time and what it waits on; finished ones
/// scroll above; one status line for the whole run stays at the bottom.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    status: Mutex<Option<(Tally, ProgressBar)>>,
}

impl Bars {
    fn new() -> Self {
        Bars { multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), bars: Mutex::new(HashMap::new()), status: Mutex::default() }
    }

    fn tally(&self, change: impl FnOnce(&mut Tally)) {
        let mut status = self.status.lock().unwrap();
        let Some((tally, bar)) = status.as_mut() else { return };
        change(tally);
        if tally.is_over() {
            bar.finish_and_clear();
        } else {
            bar.set_message(tally.line(false));
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        if let Some((_, bar)) = self.status.lock().unwrap().take() {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for Bars {
    fn planned(&self, steps: &[(Address, Verb)]) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        // Cut to the terminal's width: one line that stays one line.
        bar.set_style(ProgressStyle::with_template("[{elapsed}] {wide_msg}").expect("valid template"));
        let tally = Tally::new(steps);
        bar.set_message(tally.line(false));
        bar.enable_steady_tick(Duration::from_millis(500));
        *self.status.lock().unwrap() = Some((tally, bar));
    }

    fn started(&self, address: &Address, verb: Verb) {
        // Above the status line, which stays at the bottom.
        let bar = match self.status.lock().unwrap().as_ref() {
            Some((_, status)) => self.multi.insert_before(status, ProgressBar::new_spinner()),
            None => self.multi.add(ProgressBar::new_spinner()),
        };
        bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed}] {wide_msg}").expect("valid template"));
        bar.set_message(format!("{} {address}", verb.doing()));
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars.lock().unwrap().insert(address.to_string(), bar);
        self.tally(|t| t.started(address, verb));
    }

    fn finished(&self, address: &Address, verb: Verb, result: Result<&str, &str>, elapsed: Duration) {
        if let Some(bar) = self.bars.lock().unwrap().remove(&address.to_string()) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let line = match result {
            Ok("") => {
                format!("✓ {} {address} in {}", verb.done(), seconds(elapsed))
            }
            Ok(id) => format!("✓ {} {address} in {} ({id})", verb.done(), seconds(elapsed)),
            Err(e) => format!("✗ failed {} {address} after {}: {e}", verb.doing(), seconds(elapsed)),
        };
        let _ = self.multi.println(line);
        self.tally(|t| t.finished(address, verb));
    }

    fn note(&self, message: &str) {
        let _ = self.multi.println(message);
    }

    /// The live line of the step shows its latest progress.
    fn progress(&self, address: &Address, verb: Verb, message: &str) {
        if let Some(bar) = self.bars.lock().unwrap().get(&address.to_string()) {
            bar.set_message(format!("{} {address}: {message}", verb.doing()));
        }
        self.tally(|t| t.said(address, verb, message));
    }
}

/// A command that only prints ends quietly when its reader goes away (`eksnet man | head`), as
/// command-line tools do: SIGPIPE gets its default action back (Rust ignores it, which turns a
/// closed pipe into a "Broken pipe" error or a panic in `print!`). Commands that change things
/// keep ignoring it: a closed pipe must never stop an apply halfway.
pub fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restores a signal's default disposition before any thread that could race it
    // prints; no handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
