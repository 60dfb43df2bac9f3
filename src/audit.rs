//! The audit trail of every write opsdeck makes: the record schema, the append-only
//! `audit.jsonl` log (an intent before each write, a result after), the reports `opsdeck audit`
//! prints, and the webhook that announces writes to chat.

mod log;
mod record;
mod report;
mod webhook;

pub use log::AuditLog;
pub use record::{Outcome, Phase, Record, new_id};
pub use report::{Entry, entries, guard_payload, markdown, merge, since, slack_payload, table};
pub use webhook::Webhook;
