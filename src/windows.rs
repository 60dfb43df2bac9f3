//! Deployment windows: is now inside one, and if not, when does the next open. Pure: the
//! time comes in as an argument. A window's times are in a named time zone (daylight saving
//! time included) or a fixed UTC offset.

use crate::config::{Blackout, Weekday, Window, parse_date, parse_hhmm, parse_offset};

/// Where `now` stands against an environment's windows and blackouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowStatus {
    /// No windows configured: any time is a deployment time.
    Always,
    /// Inside a window that closes at `until` (HH:MM in the window's zone, named by `offset`).
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

    /// Whether writes that add risk may go ahead without an emergency reason.
    pub fn allows_changes(&self) -> bool {
        matches!(self, Self::Always | Self::Open { .. })
    }

    /// The status and, when it will change, how long until it does: "window open until 16:00
    /// (Europe/Paris), closes in 2h10m"; "outside deployment windows, opens Mon 10:00 in 14h".
    pub fn describe_until(
        &self,
        next: Option<(jiff::Timestamp, WindowStatus)>,
        now: jiff::Timestamp,
    ) -> String {
        let Some((at, then)) = next else { return self.describe() };
        let left = span(now, at);
        match (self, &then) {
            (Self::Open { .. }, _) => format!("{}, closes in {left}", self.describe()),
            (_, Self::Open { .. }) => format!("{}, opens in {left}", self.describe()),
            (Self::Blackout { .. }, _) => format!("{}, ends in {left}", self.describe()),
            (_, Self::Blackout { reason }) => format!("{}; blackout ({reason}) in {left}", self.describe()),
            _ => self.describe(),
        }
    }
}

fn span(from: jiff::Timestamp, to: jiff::Timestamp) -> String {
    crate::config::duration_words(to.duration_since(from).as_secs())
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

/// The window's time zone: the named one, or its fixed offset. `None` when neither parses
/// (config validation has already said so).
fn zone(w: &Window) -> Option<(jiff::tz::TimeZone, String)> {
    if let Some(name) = &w.time_zone {
        return jiff::tz::TimeZone::get(name.get_ref()).ok().map(|tz| (tz, name.get_ref().clone()));
    }
    let minutes = parse_offset(w.utc_offset.get_ref())?;
    let offset = jiff::tz::Offset::from_seconds(minutes * 60).ok()?;
    Some((jiff::tz::TimeZone::fixed(offset), w.utc_offset.get_ref().clone()))
}

fn blackout(blackouts: &[Blackout], now: jiff::Timestamp) -> Option<&Blackout> {
    let utc = jiff::tz::Offset::UTC.to_datetime(now);
    let today =
        (u16::try_from(utc.year()).unwrap_or(0), utc.month().unsigned_abs(), utc.day().unsigned_abs());
    blackouts.iter().find(|b| match (parse_date(b.from.get_ref()), parse_date(b.to.get_ref())) {
        (Some(from), Some(to)) => from <= today && today <= to,
        _ => false,
    })
}

pub fn status(windows: &[Window], blackouts: &[Blackout], now: jiff::Timestamp) -> WindowStatus {
    if let Some(b) = blackout(blackouts, now) {
        return WindowStatus::Blackout { reason: b.reason.clone() };
    }
    if windows.is_empty() {
        return WindowStatus::Always;
    }
    for w in windows {
        let Some((tz, name)) = zone(w) else { continue };
        let (Some(start), Some(end)) = (parse_hhmm(w.start.get_ref()), parse_hhmm(w.end.get_ref())) else {
            continue;
        };
        let at = now.to_zoned(tz).datetime();
        let minute = u16::try_from(at.hour()).unwrap_or(0) * 60 + u16::try_from(at.minute()).unwrap_or(0);
        if w.days.contains(&weekday(at.weekday())) && start <= minute && minute < end {
            return WindowStatus::Open { until: w.end.get_ref().clone(), offset: name };
        }
    }
    WindowStatus::Closed
}

/// When the status next changes within a fortnight, and what to: the first window boundary
/// or blackout day boundary after `now` at which it reads differently.
pub fn next_change(
    windows: &[Window],
    blackouts: &[Blackout],
    now: jiff::Timestamp,
) -> Option<(jiff::Timestamp, WindowStatus)> {
    let mut candidates: Vec<jiff::Timestamp> = Vec::new();
    for w in windows {
        let Some((tz, _)) = zone(w) else { continue };
        let today = now.to_zoned(tz.clone()).date();
        for days in 0..15 {
            let Ok(date) = today.checked_add(jiff::Span::new().days(days)) else { continue };
            if !w.days.contains(&weekday(date.weekday())) {
                continue;
            }
            for time in [&w.start, &w.end] {
                let Some(minute) = parse_hhmm(time.get_ref()) else { continue };
                let Ok(civil) = date
                    .at(i8::try_from(minute / 60).unwrap_or(0), i8::try_from(minute % 60).unwrap_or(0), 0, 0)
                    .to_zoned(tz.clone())
                else {
                    continue;
                };
                candidates.push(civil.timestamp());
            }
        }
    }
    for b in blackouts {
        for (date, days_after) in [(&b.from, 0), (&b.to, 1)] {
            let Some((y, m, d)) = parse_date(date.get_ref()) else { continue };
            let Ok(day) = jiff::civil::Date::new(
                i16::try_from(y).unwrap_or(0),
                i8::try_from(m).unwrap_or(1),
                i8::try_from(d).unwrap_or(1),
            ) else {
                continue;
            };
            if let Ok(day) = day.checked_add(jiff::Span::new().days(days_after))
                && let Ok(at) = day.to_zoned(jiff::tz::TimeZone::UTC)
            {
                candidates.push(at.timestamp());
            }
        }
    }
    candidates.retain(|c| *c > now);
    candidates.sort();
    candidates.dedup();
    let current = status(windows, blackouts, now);
    candidates
        .into_iter()
        .map(|at| (at, status(windows, blackouts, at)))
        .find(|(_, then)| std::mem::discriminant(then) != std::mem::discriminant(&current))
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

    fn paris() -> crate::config::Environment {
        env(
            "[[environments.windows]]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\"]\nstart = \"10:00\"\nend = \"16:00\"\ntime_zone = \"Europe/Paris\"\n",
        )
    }

    #[test]
    fn a_named_zone_follows_daylight_saving_time() {
        let e = paris();
        let open = |t: &str| status(&e.windows, &e.blackouts, at(t)).allows_changes();
        // Winter, CET (+01:00): 09:30 UTC is 10:30 in Paris.
        assert!(open("2026-11-19T09:30:00Z"));
        assert!(!open("2026-11-19T08:30:00Z"), "09:30 in Paris");
        // Summer, CEST (+02:00): 08:30 UTC is already 10:30 in Paris; a fixed +01:00 would say 09:30.
        assert!(open("2026-07-16T08:30:00Z"));
        assert!(!open("2026-07-16T07:30:00Z"));
        let fixed = env(WEEKDAYS);
        assert!(!status(&fixed.windows, &fixed.blackouts, at("2026-07-16T08:30:00Z")).allows_changes());
        // The Monday after the clocks went forward (Sunday 2026-03-29): 08:00 UTC is 10:00.
        assert!(open("2026-03-30T08:00:00Z"));
        assert!(!open("2026-03-23T08:00:00Z"), "a week earlier the same instant is 09:00 CET");
    }

    #[test]
    fn windows_in_different_zones_are_each_read_in_their_own() {
        let tokyo = env(
            "[[environments.windows]]\ndays = [\"fri\"]\nstart = \"10:00\"\nend = \"16:00\"\ntime_zone = \"Asia/Tokyo\"\n",
        );
        // Thursday 23:30 UTC is Friday 08:30 in Tokyo; Friday 01:30 UTC is 10:30 there.
        assert_eq!(
            status(&tokyo.windows, &tokyo.blackouts, at("2026-11-19T23:30:00Z")),
            WindowStatus::Closed
        );
        assert_eq!(
            status(&tokyo.windows, &tokyo.blackouts, at("2026-11-20T01:30:00Z")),
            WindowStatus::Open { until: "16:00".into(), offset: "Asia/Tokyo".into() }
        );
    }

    #[test]
    fn the_next_change_is_the_next_boundary_that_changes_anything() {
        let e = paris();
        let now = at("2026-11-19T09:30:00Z");
        let (when, then) = next_change(&e.windows, &e.blackouts, now).expect("closes");
        assert_eq!((when, then.clone()), (at("2026-11-19T15:00:00Z"), WindowStatus::Closed));
        let shown = status(&e.windows, &e.blackouts, now).describe_until(Some((when, then)), now);
        assert_eq!(shown, "window open until 16:00 (Europe/Paris), closes in 5h30m");
        // Friday: the next opening is Monday 10:00 in Paris.
        let friday = at("2026-11-20T12:00:00Z");
        let (when, then) = next_change(&e.windows, &e.blackouts, friday).expect("opens");
        assert_eq!(when, at("2026-11-23T09:00:00Z"));
        assert!(
            status(&e.windows, &e.blackouts, friday)
                .describe_until(Some((when, then)), friday)
                .ends_with("opens in 2d21h")
        );
    }

    #[test]
    fn a_zone_must_exist_and_comes_instead_of_an_offset() {
        let bad = crate::config::parse(
            Path::new("w.toml"),
            "[[environments]]\nname = \"p\"\ncontext = \"p\"\n[[environments.windows]]\ndays = [\"mon\"]\nstart = \"10:00\"\nend = \"16:00\"\ntime_zone = \"Europe/Atlantis\"\nutc_offset = \"+01:00\"\n",
        )
        .expect_err("invalid");
        let text = bad.to_string();
        assert!(
            text.contains("unknown time zone \"Europe/Atlantis\"") && text.contains("not both"),
            "{text}"
        );
    }
}
