//! The append-only audit log: `audit.jsonl` in the data dir, one record per line, each line on
//! disk before `append` returns.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::record::Record;

const FILE_NAME: &str = "audit.jsonl";

/// The audit log file. Holds only the path: every append opens the file afresh so several
/// opsdeck processes can share it.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// `dir` is the data dir; the file is `dir/audit.jsonl`; creates the dir.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(Self { path: dir.join(FILE_NAME) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as one line and fsyncs before returning.
    ///
    /// O_APPEND plus a single `write_all` of the whole line makes each line land whole at the
    /// end of the file even when another process appends at the same moment.
    pub fn append(&self, record: &Record) -> io::Result<()> {
        let json = serde_json::to_string(record).map_err(io::Error::other)?;
        let created = !self.path.exists();
        let mut options = OpenOptions::new();
        options.create(true).append(true).read(true);
        #[cfg(unix)]
        {
            // Patches and reasons can name internal systems; keep the log private to the user.
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&self.path)?;
        // After a crash mid-write the file ends in a torn line; without a fresh newline this
        // record would be glued onto it and lost with it. Two processes racing here at worst
        // leave an empty line, which `read` ignores.
        let mut line = String::with_capacity(json.len() + 2);
        if !ends_with_newline(&mut file)? {
            line.push('\n');
        }
        line.push_str(&json);
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        if created {
            sync_dir(&self.path)?;
        }
        Ok(())
    }

    /// Every record in file order. A line that does not parse (a torn last line after a crash,
    /// hand edits) is skipped and reported in the second value as "audit.jsonl:LINE: <why>".
    /// A missing file reads as empty.
    pub fn read(&self) -> io::Result<(Vec<Record>, Vec<String>)> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
            Err(e) => return Err(e),
        };
        let mut records = Vec::new();
        let mut problems = Vec::new();
        // Split bytes, not text: a torn write can cut a multi-byte character, and that must cost
        // one line, not the whole file.
        for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line_no = index + 1;
            let parsed = std::str::from_utf8(raw).map_err(|e| format!("not UTF-8: {e}")).and_then(|text| {
                if text.trim().is_empty() {
                    Ok(None)
                } else {
                    serde_json::from_str::<Record>(text).map(Some).map_err(|e| e.to_string())
                }
            });
            match parsed {
                Ok(Some(record)) => records.push(record),
                Ok(None) => {}
                Err(why) => problems.push(format!("{FILE_NAME}:{line_no}: {why}")),
            }
        }
        Ok((records, problems))
    }
}

/// True for an empty file too: there is no torn line to close.
fn ends_with_newline(file: &mut File) -> io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::End(-1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Makes a newly created file's directory entry durable, so the first record survives a crash.
#[cfg(unix)]
fn sync_dir(file: &Path) -> io::Result<()> {
    match file.parent() {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

#[cfg(not(unix))]
fn sync_dir(_file: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::audit::record::Outcome;
    use crate::audit::record::tests::{sample, ts};

    #[test]
    fn missing_file_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&dir.path().join("nested/data")).unwrap();
        assert!(log.path().ends_with("nested/data/audit.jsonl"));
        assert!(log.path().parent().unwrap().is_dir());
        assert_eq!(log.read().unwrap(), (Vec::new(), Vec::new()));
    }

    #[test]
    fn append_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        let intent = sample("op-1", "2026-11-21T23:59:00Z");
        let result = intent.result(ts("2026-11-21T23:59:02Z"), Outcome::Done, "paused", Some("101".into()));
        log.append(&intent).unwrap();
        log.append(&result).unwrap();
        let text = fs::read_to_string(log.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
        assert_eq!(log.read().unwrap(), (vec![intent, result], Vec::new()));
    }

    #[test]
    fn torn_last_line_is_skipped_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        let first = sample("op-1", "2026-11-21T23:59:00Z");
        log.append(&first).unwrap();
        log.append(&sample("op-2", "2026-11-21T23:59:30Z")).unwrap();
        let whole = serde_json::to_string(&sample("op-3", "2026-11-21T23:59:40Z")).unwrap();
        let mut file = OpenOptions::new().append(true).open(log.path()).unwrap();
        file.write_all(&whole.as_bytes()[..whole.len() / 2]).unwrap();
        drop(file);

        let (records, problems) = log.read().unwrap();
        assert_eq!(records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["op-1", "op-2"]);
        assert_eq!(records[0], first);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("audit.jsonl:3: "), "{problems:?}");

        // The next append starts a fresh line instead of being glued onto the torn one.
        log.append(&sample("op-4", "2026-11-22T00:00:00Z")).unwrap();
        let (records, problems) = log.read().unwrap();
        assert_eq!(records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["op-1", "op-2", "op-4"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("audit.jsonl:3: "), "{problems:?}");
    }

    #[test]
    fn invalid_utf8_costs_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        fs::write(log.path(), b"\xff\xfe\n").unwrap();
        log.append(&sample("op-1", "2026-11-21T23:59:00Z")).unwrap();
        let (records, problems) = log.read().unwrap();
        assert_eq!(records.len(), 1);
        assert!(problems[0].starts_with("audit.jsonl:1: not UTF-8"), "{problems:?}");
    }

    #[test]
    fn concurrent_appends_never_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(AuditLog::open(dir.path()).unwrap());
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let mut record = sample(&format!("t{t}-{i}"), "2026-11-21T23:59:00Z");
                        // Long lines make a split write likelier to show if appends were not atomic.
                        record.message = Some("x".repeat(2000));
                        log.append(&record).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let (records, problems) = log.read().unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(records.len(), 400);
        for t in 0..2 {
            let ids: Vec<&str> = records
                .iter()
                .map(|r| r.id.as_str())
                .filter(|id| id.starts_with(&format!("t{t}-")))
                .collect();
            let expected: Vec<String> = (0..200).map(|i| format!("t{t}-{i}")).collect();
            assert_eq!(ids, expected);
        }
    }
}
