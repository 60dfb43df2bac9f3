//! Deployment windows: is now inside one, and if not, when does the next open. Pure: the
//! time comes in as an argument.

use crate::config::{Blackout, Weekday, Window, parse_date, parse_hhmm, parse_offset};

/// Where `now` stands against an environment's windows and blackouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowStatus {
    /// No windows configured: any time is a deployment time.
    Always,
    /// Inside a window that closes at `until` (HH:MM in the window's offset).
    Open { until: String, offset: String },
    /// Outside every window; writes need an emergency reason.
    Closed,
    /// A blackout day: no deployments.
    Blackout { reason: String },
}

impl WindowStatus {
    pub fn describe(&self) -> String {
        match self {
            Self::Always => "no deployment windows".to_owned(),
            Self::Open { until, offset } => format!("window open until {until} ({offset})"),
            Self::Closed => "outside deployment windows".to_owned(),
            Self::Blackout { reason } => format!("blackout: {reason}"),
        }
    }
}

fn weekday(day: jiff::civil::Weekday) -> Weekday {
    use jiff::civil::Weekday as W;
    match day {
        W::Monday => Weekday::Mon,
        W::Tuesday => Weekday::Tue,
        W::Wednesday => Weekday::Wed,
        W::Thursday => Weekday::Thu,
        W::Friday => Weekday::Fri,
        W::Saturday => Weekday::Sat,
        W::Sunday => Weekday::Sun,
    }
}

/// The civil date and time at `now` in an offset given in minutes east of UTC.
fn local(now: jiff::Timestamp, minutes: i32) -> Option<jiff::civil::DateTime> {
    let offset = jiff::tz::Offset::from_seconds(minutes * 60).ok()?;
    Some(offset.to_datetime(now))
}

pub fn status(windows: &[Window], blackouts: &[Blackout], now: jiff::Timestamp) -> WindowStatus {
    if let Some(utc) = local(now, 0) {
        let today =
            (u16::try_from(utc.year()).unwrap_or(0), utc.month().unsigned_abs(), utc.day().unsigned_abs());
        for b in blackouts {
            if let (Some(from), Some(to)) = (parse_date(b.from.get_ref()), parse_date(b.to.get_ref()))
                && from <= today
                && today <= to
            {
                return WindowStatus::Blackout { reason: b.reason.clone() };
            }
        }
    }
    if windows.is_empty() {
        return WindowStatus::Always;
    }
    for w in windows {
        let Some(minutes) = parse_offset(w.utc_offset.get_ref()) else { continue };
        let (Some(start), Some(end)) = (parse_hhmm(w.start.get_ref()), parse_hhmm(w.end.get_ref())) else {
            continue;
        };
        let Some(at) = local(now, minutes) else { continue };
        let minute = u16::try_from(at.hour()).unwrap_or(0) * 60 + u16::try_from(at.minute()).unwrap_or(0);
        if w.days.contains(&weekday(at.weekday())) && start <= minute && minute < end {
            return WindowStatus::Open {
                until: w.end.get_ref().clone(),
                offset: w.utc_offset.get_ref().clone(),
            };
        }
    }
    WindowStatus::Closed
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn env(extra: &str) -> crate::config::Environment {
        let text = format!("[[environments]]\nname = \"p\"\ncontext = \"p\"\n{extra}");
        crate::config::parse(Path::new("w.toml"), &text).expect("valid").environments.remove(0)
    }

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().expect("timestamp")
    }

    const WEEKDAYS: &str = "[[environments.windows]]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\"]\nstart = \"10:00\"\nend = \"16:00\"\nutc_offset = \"+01:00\"\n";

    #[test]
    fn open_inside_the_window_in_its_own_offset() {
        let e = env(WEEKDAYS);
        // Thursday 2026-11-19 09:30 UTC is 10:30 at +01:00.
        assert_eq!(
            status(&e.windows, &e.blackouts, at("2026-11-19T09:30:00Z")),
            WindowStatus::Open { until: "16:00".into(), offset: "+01:00".into() }
        );
        assert_eq!(
            status(&e.windows, &e.blackouts, at("2026-11-19T08:59:00Z")),
            WindowStatus::Closed,
            "09:59 local"
        );
        assert_eq!(
            status(&e.windows, &e.blackouts, at("2026-11-19T15:00:00Z")),
            WindowStatus::Closed,
            "16:00 is the end"
        );
        assert_eq!(
            status(&e.windows, &e.blackouts, at("2026-11-20T10:00:00Z")),
            WindowStatus::Closed,
            "Friday"
        );
    }

    #[test]
    fn blackouts_win_and_no_windows_means_any_time() {
        let e = env(&format!(
            "{WEEKDAYS}[[environments.blackouts]]\nfrom = \"2026-12-24\"\nto = \"2026-12-26\"\nreason = \"holidays\"\n"
        ));
        assert_eq!(
            status(&e.windows, &e.blackouts, at("2026-12-24T10:00:00Z")),
            WindowStatus::Blackout { reason: "holidays".into() }
        );
        let none = env("");
        assert_eq!(status(&none.windows, &none.blackouts, at("2026-12-24T10:00:00Z")), WindowStatus::Always);
    }
}
