//! Time: now, and the timestamp forms of the caches (read leniently, written as the AWS CLI
//! writes them).

use time::OffsetDateTime;

/// Parses the timestamp forms found in the caches: RFC 3339 (`Z` or offset, optional
/// fraction) and the old `2020-06-17T10:02:08UTC`.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let base = s.strip_suffix("UTC").unwrap_or(s);
    // Without a zone the CLI takes UTC.
    OffsetDateTime::parse(&format!("{base}Z"), &Rfc3339).ok()
}

/// `%Y-%m-%dT%H:%M:%SZ`, the form the CLI writes.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
