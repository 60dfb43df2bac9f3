//! What `opsdeck audit` prints: a time window over the log, intent/result pairing, a terminal
//! table, a Markdown timeline for tickets, and the Slack-compatible notification payload.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::record::{Outcome, Phase, Record};

const NO_RESULT: &str = "no result recorded (interrupted?)";

/// Records at or after `now - since` (all when None), in file order.
pub fn since(records: &[Record], since: Option<Duration>, now: Timestamp) -> Vec<Record> {
    // A window too large to represent reaches back before any record: keep them all.
    let cutoff = since.and_then(|d| SignedDuration::try_from(d).ok().and_then(|d| now.checked_sub(d).ok()));
    match (since, cutoff) {
        (Some(_), Some(cutoff)) => records.iter().filter(|r| r.time >= cutoff).cloned().collect(),
        _ => records.to_vec(),
    }
}

/// This machine's records and the team's from the clusters as one log in time order, each
/// marked with where it was read: `local`, `cluster`, or `local+cluster` (the same id and
/// phase in both). A colleague's operation is `cluster` only.
pub fn merge(local: Vec<Record>, cluster: Vec<Record>) -> Vec<Record> {
    let key = |r: &Record| (r.id.clone(), r.phase == Phase::Intent);
    let in_cluster: std::collections::HashSet<(String, bool)> = cluster.iter().map(key).collect();
    let in_local: std::collections::HashSet<(String, bool)> = local.iter().map(key).collect();
    let mut out: Vec<Record> = local
        .into_iter()
        .map(|mut r| {
            let both = in_cluster.contains(&key(&r));
            r.origin = Some(if both { "local+cluster" } else { "local" }.to_owned());
            r
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for mut r in cluster {
        if in_local.contains(&key(&r)) || !seen.insert(key(&r)) {
            continue;
        }
        r.origin = Some("cluster".to_owned());
        out.push(r);
    }
    // Stable: records of one instant keep the order they were read in (intent before result).
    out.sort_by_key(|r| r.time);
    out
}

/// One operation: its intent and, if written, its result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry<'a> {
    pub intent: Option<&'a Record>,
    pub result: Option<&'a Record>,
}

impl<'a> Entry<'a> {
    /// The record that describes the operation: the intent, or the result when the intent fell
    /// outside the window. Both carry the same target, sentence and reason.
    fn head(&self) -> Option<&'a Record> {
        self.intent.or(self.result)
    }

    fn is_open(&self) -> bool {
        self.intent.is_some() && self.result.is_none()
    }
}

/// Pairs records by id in order of first appearance; a result without an intent (intent older
/// than the window) still appears. A repeated intent or result for one id keeps the first.
pub fn entries(records: &[Record]) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry<'_>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for record in records {
        let slot = *index.entry(record.id.as_str()).or_insert_with(|| {
            out.push(Entry { intent: None, result: None });
            out.len() - 1
        });
        let entry = &mut out[slot];
        match record.phase {
            Phase::Intent => {
                entry.intent.get_or_insert(record);
            }
            Phase::Result => {
                entry.result.get_or_insert(record);
            }
        }
    }
    out
}

/// A plain-text table for the terminal: TIME (UTC), ENV, USER, OPERATION (sentence), REASON,
/// OUTCOME, one row per operation.
pub fn table(records: &[Record]) -> String {
    let mut rows: Vec<[String; 6]> =
        vec![["TIME", "ENV", "USER", "OPERATION", "REASON", "OUTCOME"].map(String::from)];
    for entry in entries(records) {
        let Some(head) = entry.head() else { continue };
        rows.push(
            [
                clock(head.time),
                head.env.clone(),
                head.user.clone(),
                head.sentence.clone(),
                head.reason.clone().unwrap_or_default(),
                result_text(&entry),
            ]
            .map(|cell| one_line(&cell)),
        );
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A Markdown timeline of a deployment window, ready to paste into an incident or change ticket.
pub fn markdown(records: &[Record], now: Timestamp) -> String {
    let mut out = String::new();
    let first = records.iter().map(|r| r.time).min();
    let last = records.iter().map(|r| r.time).max();
    match first.zip(last) {
        Some((first, last)) => {
            let _ = writeln!(out, "## opsdeck audit · {} – {} UTC\n", clock(first), clock(last));
        }
        None => out.push_str("## opsdeck audit\n\n"),
    }
    let _ = writeln!(out, "_Generated by opsdeck at {} UTC._\n", clock(now));
    let entries = entries(records);
    if entries.is_empty() {
        out.push_str("No operations recorded in this period.\n");
        return out;
    }
    out.push_str("| Time (UTC) | Environment | Who | What | Why | Result |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for entry in &entries {
        let Some(head) = entry.head() else { continue };
        let result = if entry.is_open() { "**no result recorded**".to_owned() } else { result_text(entry) };
        let cells = [
            clock(head.time),
            head.env.clone(),
            who(head),
            head.sentence.clone(),
            match (&head.reason, &head.emergency) {
                (Some(r), Some(e)) => format!("{r} (EMERGENCY: {e})"),
                (None, Some(e)) => format!("EMERGENCY: {e}"),
                (Some(r), None) => r.clone(),
                (None, None) => "—".to_owned(),
            },
            result,
        ];
        out.push('|');
        for cell in cells {
            let _ = write!(out, " {} |", md_cell(&cell));
        }
        out.push('\n');
    }
    let open: Vec<&Record> = entries.iter().filter(|e| e.is_open()).filter_map(Entry::head).collect();
    if !open.is_empty() {
        out.push_str("\n### Open intents\n\n");
        out.push_str("Announced but with no result recorded; check the live state before retrying.\n\n");
        for r in open {
            let _ = writeln!(
                out,
                "- {} · {} · {} (`{}`, id `{}`)",
                clock(r.time),
                one_line(&who(r)),
                one_line(&r.sentence),
                r.operation,
                r.id
            );
        }
    }
    out
}

/// Slack-compatible payload: `{"text": "opsdeck · <user> · <sentence> · <outcome> — reason: <reason>"}`.
///
/// An intent reads "starting"; a non-done outcome carries its message in parentheses.
pub fn slack_payload(record: &Record) -> serde_json::Value {
    let mut outcome = match record.outcome {
        Some(o) => o.as_str().to_owned(),
        None if record.phase == Phase::Intent => "starting".to_owned(),
        None => "finished".to_owned(),
    };
    if let (Some(o), Some(message)) = (record.outcome, &record.message)
        && o != Outcome::Done
    {
        let _ = write!(outcome, " ({message})");
    }
    let who = match &record.automatic {
        Some(by) => format!("{} (automatic: {by})", record.user),
        None => record.user.clone(),
    };
    let mut text = format!("opsdeck · {who} · {} · {outcome}", record.sentence);
    if let Some(reason) = record.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        let _ = write!(text, " — reason: {reason}");
    }
    if let Some(emergency) = &record.emergency {
        let _ = write!(text, " — EMERGENCY: {emergency}");
    }
    serde_json::json!({ "text": slack_escape(&one_line(&text)) })
}

/// A guard's verdict turning to roll back, for the webhook: said whether or not a rollback
/// follows, so the channel hears it from the guard and not only from the write.
pub fn guard_payload(
    env: &str,
    app: &str,
    version: Option<&str>,
    reason: &str,
    rolling_back: bool,
) -> serde_json::Value {
    let version = version.map(|v| format!(" {v}")).unwrap_or_default();
    let next = if rolling_back { "rolling back automatically" } else { "roll back now" };
    let text = format!("opsdeck · guard · {env}/{app}{version} · ROLLBACK ({next}) — {reason}");
    serde_json::json!({ "text": slack_escape(&one_line(&text)) })
}

fn clock(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

fn result_text(entry: &Entry<'_>) -> String {
    let Some(result) = entry.result else { return NO_RESULT.to_owned() };
    let word = result.outcome.map_or("result", Outcome::as_str);
    match result.message.as_deref() {
        Some(message) if !message.is_empty() => format!("{word}: {message}"),
        _ => word.to_owned(),
    }
}

/// The Kubernetes identity, with the local account when it differs: on shared kubeconfigs the
/// cluster user alone does not say which person acted.
fn who(r: &Record) -> String {
    if r.local_user.is_empty() || r.local_user == r.user {
        r.user.clone()
    } else {
        format!("{} (local: {})", r.user, r.local_user)
    }
}

/// Newlines and tabs would break a row; they become spaces.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn md_cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// Slack treats `&`, `<` and `>` as markup (links, mentions); escaped, they show as typed.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::tests::{sample, ts};

    fn window() -> Vec<Record> {
        let old = sample("op-0", "2026-11-21T20:00:00Z");
        let old_result = old.result(ts("2026-11-21T23:10:00Z"), Outcome::Done, "", None);
        let mut paused = sample("op-1", "2026-11-21T23:30:00Z");
        paused.reason = Some("CHG-1 | rollout window".into());
        let paused_result =
            paused.result(ts("2026-11-21T23:30:02Z"), Outcome::Failed, "409 Conflict", Some("7".into()));
        let mut restart = sample("op-2", "2026-11-21T23:45:00Z");
        restart.operation = "restart".into();
        restart.sentence = "production · shop/api · restart".into();
        restart.reason = None;
        vec![old, old_result, paused, paused_result, restart]
    }

    #[test]
    fn since_filters_by_time() {
        let now = ts("2026-11-22T00:00:00Z");
        let records = window();
        assert_eq!(since(&records, None, now).len(), 5);
        let hour = since(&records, Some(Duration::from_secs(3600)), now);
        assert_eq!(hour.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["op-0", "op-1", "op-1", "op-2"]);
        assert_eq!(hour[0].phase, Phase::Result);
        assert!(since(&records, Some(Duration::from_secs(60)), now).is_empty());
        assert_eq!(since(&records, Some(Duration::MAX), now).len(), 5);
    }

    #[test]
    fn entries_pair_by_id_and_keep_orphan_results() {
        let records = since(&window(), Some(Duration::from_secs(3600)), ts("2026-11-22T00:00:00Z"));
        let entries = entries(&records);
        assert_eq!(entries.len(), 3);
        assert!(entries[0].intent.is_none());
        assert_eq!(entries[0].result.map(|r| r.id.as_str()), Some("op-0"));
        let paired = entries[1];
        assert_eq!(paired.intent.map(|r| (r.id.as_str(), r.phase)), Some(("op-1", Phase::Intent)));
        assert_eq!(paired.result.map(|r| (r.id.as_str(), r.phase)), Some(("op-1", Phase::Result)));
        assert!(entries[2].intent.is_some() && entries[2].result.is_none());
    }

    #[test]
    fn table_shows_open_intents() {
        let text = table(&window());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("TIME "), "{text}");
        assert!(lines[0].contains("OPERATION") && lines[0].ends_with("OUTCOME"), "{text}");
        assert!(lines[2].starts_with("2026-11-21 23:30:00  production"), "{text}");
        assert!(lines[2].contains("failed: 409 Conflict"), "{text}");
        assert!(lines[3].contains("production · shop/api · restart"), "{text}");
        assert!(lines[3].ends_with("no result recorded (interrupted?)"), "{text}");
        // Columns line up: OUTCOME starts at the same char offset on every row.
        let col = lines[0].chars().count() - "OUTCOME".len();
        assert!(lines[1..].iter().all(|l| l.chars().nth(col - 2) == Some(' ')), "{text}");
        assert_eq!(lines[1].chars().skip(col).collect::<String>(), "done");
    }

    #[test]
    fn markdown_timeline() {
        let records = &window()[2..];
        let md = markdown(records, ts("2026-11-22T00:00:00Z"));
        assert!(md.starts_with("## opsdeck audit · 2026-11-21 23:30:00 – 2026-11-21 23:45:00 UTC\n"), "{md}");
        assert!(md.contains("| Time (UTC) | Environment | Who | What | Why | Result |\n| --- |"), "{md}");
        assert!(md.contains("paused false → true"), "{md}");
        assert!(md.contains("| CHG-1 \\| rollout window |"), "{md}");
        assert!(md.contains("| failed: 409 Conflict |"), "{md}");
        assert!(md.contains("alice@example.com (local: alice)"), "{md}");
        let rows = md.lines().filter(|l| l.starts_with("| 2026-")).count();
        assert_eq!(rows, 2, "{md}");
        let open = md.split("### Open intents").nth(1).expect("open intents section");
        assert!(open.contains("production · shop/api · restart") && open.contains("op-2"), "{md}");
        assert!(!open.contains("op-1"), "{md}");
    }

    #[test]
    fn markdown_without_open_intents_or_records() {
        let done = &window()[..2];
        assert!(!markdown(done, ts("2026-11-22T00:00:00Z")).contains("Open intents"));
        let empty = markdown(&[], ts("2026-11-22T00:00:00Z"));
        assert!(empty.contains("No operations recorded in this period."), "{empty}");
        assert!(!empty.contains("| Time"), "{empty}");
    }

    #[test]
    fn slack_payload_one_line_summary() {
        let records = window();
        let payload = slack_payload(&records[3]);
        assert_eq!(
            payload,
            serde_json::json!({"text": "opsdeck · alice@example.com · production · shop/web · paused false → true \
                · failed (409 Conflict) — reason: CHG-1 | rollout window"})
        );
        let mut intent = records[4].clone();
        intent.sentence = "production · <shop>/api & co\nrestart".into();
        assert_eq!(
            slack_payload(&intent)["text"],
            "opsdeck · alice@example.com · production · &lt;shop&gt;/api &amp; co restart · starting"
        );
        assert_eq!(payload.as_object().map(serde_json::Map::len), Some(1));
    }
}
