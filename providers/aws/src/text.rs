//! Small conversions shared by the service modules: IAM's URL-encoded policy
//! documents, timestamps, tag lists.

use std::collections::BTreeMap;

use aws_sdk_ec2::primitives::{DateTime, DateTimeFormat};

/// Decodes a policy document as IAM returns it (URL-encoded JSON) into JSON. A
/// document that is not JSON after decoding is kept as a string.
pub(crate) fn policy_document(raw: &str) -> serde_json::Value {
    let trimmed = raw.trim_start();
    let text = if trimmed.starts_with('{') {
        raw.to_string()
    } else {
        percent_decode(raw)
    };
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

/// `%7B%22a%22%3A1%7D` -> `{"a":1}`; `+` stays `+` (IAM encodes spaces as `%20`).
pub(crate) fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3339, as every timestamp in the model.
pub(crate) fn timestamp(t: &DateTime) -> String {
    t.fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| t.to_string())
}

/// Milliseconds since the epoch (CloudWatch Logs) as RFC 3339.
pub(crate) fn millis(ms: i64) -> String {
    timestamp(&DateTime::from_millis(ms))
}

/// Tag pairs into a map, skipping pairs without a key.
pub(crate) fn tag_map<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string())))
        .collect()
}

/// The `Name` tag, the name EC2 shows for resources without one of their own.
pub(crate) fn name_tag(tags: &BTreeMap<String, String>) -> String {
    tags.get("Name").cloned().unwrap_or_default()
}

/// The last path segment of an ARN: `arn:aws:iam::1:instance-profile/p/web` -> `web`.
pub(crate) fn arn_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_iam_documents() {
        let raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            policy_document(raw),
            serde_json::json!({"Version": "2012-10-17", "Statement": []})
        );
        assert_eq!(
            policy_document("{\"a\":\"50%\"}"),
            serde_json::json!({"a": "50%"})
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn names_from_arns_and_tags() {
        assert_eq!(arn_name("arn:aws:iam::1:instance-profile/p/web"), "web");
        let tags = tag_map([(Some("Name"), Some("x")), (None, Some("y"))]);
        assert_eq!(name_tag(&tags), "x");
        assert_eq!(tags.len(), 1);
        assert_eq!(millis(0), "1970-01-01T00:00:00Z");
    }
}
