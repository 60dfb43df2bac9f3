//! Auto mode for one canary, as a pure state machine: the console steps the canary once per
//! interval while the verdict passes, and aborts it (weight 0) after `threshold` consecutive
//! failed checks, the way Flagger runs its analysis. Each metrics round is one check. It runs
//! while the console runs; nothing here does I/O: it answers with what to ask for.

use std::time::Duration;

use jiff::Timestamp;

use crate::metrics::Verdict;

/// What auto mode asks the console to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoAction {
    /// Step up, recording `reason`.
    Step { reason: String },
    /// Weight 0, recording `reason`.
    Abort { reason: String },
}

/// What auto mode is doing, for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoPhase {
    /// Counting down to the next step.
    Waiting,
    /// The next step is due, but the latest verdict does not pass.
    Holding(String),
    /// An operation it asked for is running.
    Busy(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AutoMode {
    pub env: String,
    pub app: String,
    pub interval: Duration,
    pub threshold: u32,
    /// The operator's reason for turning it on, carried into every audit record it causes.
    pub reason: String,
    pub started: Timestamp,
    pub next_step_at: Timestamp,
    /// Consecutive failed checks.
    pub failures: u32,
    /// Why the last check failed.
    pub last_failure: Vec<String>,
    /// Only metrics rounds after this count towards the next step: a pass measured before the
    /// last step says nothing about the weight now.
    pub checked_since: Timestamp,
    pub phase: AutoPhase,
    /// Whether the operation in flight is the abort.
    pub aborting: bool,
}

/// How an auto mode ended, for the notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoEnded {
    pub error: bool,
    pub text: String,
}

fn clock(at: Timestamp) -> String {
    at.strftime("%H:%M:%S UTC").to_string()
}

/// `now + duration`, saturating far in the future rather than failing.
fn later(now: Timestamp, duration: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(duration)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

impl AutoMode {
    pub fn start(
        env: &str,
        app: &str,
        interval: Duration,
        threshold: u32,
        reason: &str,
        now: Timestamp,
    ) -> Self {
        Self {
            env: env.to_owned(),
            app: app.to_owned(),
            interval,
            threshold: threshold.max(1),
            reason: reason.to_owned(),
            started: now,
            next_step_at: later(now, interval),
            failures: 0,
            last_failure: Vec::new(),
            checked_since: now,
            phase: AutoPhase::Waiting,
            aborting: false,
        }
    }

    fn busy(&self) -> bool {
        matches!(self.phase, AutoPhase::Busy(_))
    }

    fn signature(&self) -> String {
        format!("auto mode, on since {}: {}", clock(self.started), self.reason)
    }

    /// One metrics round: a check. A failure counts; a pass clears the count; not enough data
    /// neither passes nor fails. At `threshold` failures in a row it asks for the abort.
    pub fn check(&mut self, verdict: Option<&Verdict>) -> Option<AutoAction> {
        if self.aborting {
            return None;
        }
        match verdict {
            Some(Verdict::Fail(reasons)) => {
                self.failures += 1;
                self.last_failure.clone_from(reasons);
                if self.failures >= self.threshold {
                    self.aborting = true;
                    self.phase = AutoPhase::Busy("aborting".into());
                    return Some(AutoAction::Abort {
                        reason: format!(
                            "{} consecutive failed checks: {} ({})",
                            self.failures,
                            reasons.join("; "),
                            self.signature()
                        ),
                    });
                }
            }
            Some(Verdict::Pass) => {
                self.failures = 0;
                self.last_failure.clear();
            }
            Some(Verdict::NotEnoughData(_)) | None => {}
        }
        None
    }

    /// The clock moved. When the step is due and the latest verdict, measured since the last
    /// step, passes, it asks for the next step.
    pub fn tick(
        &mut self,
        now: Timestamp,
        verdict: Option<&Verdict>,
        measured_at: Option<Timestamp>,
    ) -> Option<AutoAction> {
        if self.busy() || now < self.next_step_at {
            return None;
        }
        let fresh = measured_at.is_some_and(|at| at > self.checked_since);
        match verdict {
            Some(Verdict::Pass) if fresh => {
                self.phase = AutoPhase::Busy("stepping up".into());
                let at = measured_at.map(clock).unwrap_or_default();
                Some(AutoAction::Step { reason: format!("verdict pass at {at} ({})", self.signature()) })
            }
            Some(Verdict::Pass) => {
                self.phase = AutoPhase::Holding("waiting for a verdict measured since the last step".into());
                None
            }
            Some(v) => {
                self.phase = AutoPhase::Holding(format!("verdict {}", v.word()));
                None
            }
            None => {
                self.phase = AutoPhase::Holding("no verdict yet".into());
                None
            }
        }
    }

    /// The operation it asked for ended. `None` while auto mode goes on; how it ended otherwise.
    pub fn finished(&mut self, done: bool, message: &str, now: Timestamp) -> Option<AutoEnded> {
        let subject = format!("{}/{}", self.env, self.app);
        if self.aborting {
            let why = self.last_failure.join("; ");
            return Some(if done {
                AutoEnded {
                    error: true,
                    text: format!("auto mode aborted {subject} after {} failed checks: {why}", self.failures),
                }
            } else {
                AutoEnded {
                    error: true,
                    text: format!(
                        "auto mode could not abort {subject} ({message}): abort it by hand (x) or with the kill switch (X)"
                    ),
                }
            });
        }
        if !done {
            return Some(AutoEnded {
                error: true,
                text: format!("auto mode off for {subject}: the step did not finish: {message}"),
            });
        }
        self.phase = AutoPhase::Waiting;
        self.checked_since = now;
        self.next_step_at = later(now, self.interval);
        None
    }

    /// The canary reached the top step: auto mode's work is done, promotion is the operator's.
    pub fn at_top(&self, weight: u32, top: u32) -> Option<AutoEnded> {
        (!self.busy() && weight >= top).then(|| AutoEnded {
            error: false,
            text: format!(
                "auto mode finished {}/{} at {weight}%: promote it when ready (P)",
                self.env, self.app
            ),
        })
    }

    /// Seconds until the next step, for the countdown.
    pub fn due_in(&self, now: Timestamp) -> i64 {
        self.next_step_at.duration_since(now).as_secs().max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + second).expect("ts")
    }

    fn fail() -> Verdict {
        Verdict::Fail(vec!["error rate 4.10% > 1.00%".into()])
    }

    fn auto() -> AutoMode {
        AutoMode::start("production", "api", Duration::from_secs(60), 3, "release 1.3.1", at(0))
    }

    #[test]
    fn it_steps_only_when_due_and_passing_on_fresh_figures() {
        let mut a = auto();
        assert_eq!(a.tick(at(30), Some(&Verdict::Pass), Some(at(29))), None, "not due yet");
        assert_eq!(a.tick(at(60), Some(&Verdict::NotEnoughData(vec![])), Some(at(59))), None);
        assert_eq!(a.phase, AutoPhase::Holding("verdict not enough data".into()));
        let step = a.tick(at(61), Some(&Verdict::Pass), Some(at(61)));
        assert!(
            matches!(&step, Some(AutoAction::Step { reason }) if reason.contains("release 1.3.1")),
            "{step:?}"
        );
        assert_eq!(a.tick(at(62), Some(&Verdict::Pass), Some(at(62))), None, "one operation at a time");
        assert_eq!(a.finished(true, "ok", at(70)), None);
        assert_eq!(a.due_in(at(70)), 60);
        assert_eq!(
            a.tick(at(131), Some(&Verdict::Pass), Some(at(65))),
            None,
            "a pass from before the step is stale"
        );
    }

    #[test]
    fn threshold_failures_in_a_row_abort_and_a_pass_resets_the_count() {
        let mut a = auto();
        assert_eq!(a.check(Some(&fail())), None);
        assert_eq!(a.check(Some(&fail())), None);
        assert_eq!(a.check(Some(&Verdict::Pass)), None);
        assert_eq!(a.failures, 0, "a pass in between starts the count again");
        assert_eq!(a.check(Some(&Verdict::NotEnoughData(vec![]))), None);
        a.check(Some(&fail()));
        a.check(Some(&fail()));
        let abort = a.check(Some(&fail()));
        let Some(AutoAction::Abort { reason }) = abort else { panic!("abort after 3: {abort:?}") };
        assert!(reason.starts_with("3 consecutive failed checks: error rate 4.10% > 1.00%"), "{reason}");
        assert_eq!(a.check(Some(&fail())), None, "asked once");
        assert_eq!(a.tick(at(600), Some(&Verdict::Pass), Some(at(600))), None, "no step while aborting");
        let ended = a.finished(true, "done", at(601)).expect("ended");
        assert!(ended.text.contains("aborted production/api after 3 failed checks"), "{ended:?}");
    }

    #[test]
    fn it_ends_at_the_top_step_or_when_a_step_fails() {
        let a = auto();
        assert_eq!(a.at_top(50, 100), None);
        let ended = a.at_top(100, 100).expect("ended");
        assert!(!ended.error && ended.text.contains("promote it when ready"), "{ended:?}");
        let mut a = auto();
        a.tick(at(60), Some(&Verdict::Pass), Some(at(60)));
        assert_eq!(a.at_top(100, 100), None, "not while a step runs");
        let ended = a.finished(false, "conflict", at(61)).expect("ended");
        assert!(ended.error && ended.text.contains("conflict"), "{ended:?}");
    }
}
