//! Progress on stderr for long runs: a spinner naming the current stage when stderr is a
//! terminal, nothing otherwise (so logs and pipes stay clean).

use crate::spatial::coverage::Progress;
use std::io::IsTerminal;

/// A stage spinner, shown only on a terminal.
pub struct Stages(Option<indicatif::ProgressBar>);

impl Stages {
    /// Starts a spinner if stderr is a terminal.
    pub fn new() -> Stages {
        if std::io::stderr().is_terminal() {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            Stages(Some(pb))
        } else {
            Stages(None)
        }
    }
}

impl Progress for Stages {
    fn stage(&self, name: &str) {
        if let Some(pb) = &self.0 {
            pb.set_message(name.to_string());
        }
    }
}

impl Drop for Stages {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
