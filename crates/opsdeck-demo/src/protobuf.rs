//! Just enough of Kubernetes' protobuf encoding to read the access reviews kubectl sends that
//! way (`kubectl auth can-i`, `kubectl auth whoami`); answers go back as JSON, which every
//! client accepts. Any other protobuf body is refused with 415.

use serde_json::{Map, Value, json};

/// The envelope's magic prefix: "k8s" and a zero byte.
const MAGIC: &[u8] = b"k8s\0";

/// A length-delimited field or a skipped scalar, as (field number, bytes).
fn fields(mut bytes: &[u8]) -> Result<Vec<(u64, &[u8])>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                varint(&mut bytes)?;
            }
            1 => bytes = bytes.get(8..).ok_or("truncated fixed64")?,
            5 => bytes = bytes.get(4..).ok_or("truncated fixed32")?,
            2 => {
                let len = usize::try_from(varint(&mut bytes)?).map_err(|_| "length overflow")?;
                let value = bytes.get(..len).ok_or("truncated field")?;
                out.push((field, value));
                bytes = &bytes[len..];
            }
            other => return Err(format!("unsupported wire type {other}")),
        }
    }
    Ok(out)
}

fn varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first().ok_or("truncated varint")?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint too long".to_owned())
}

fn field<'a>(fields: &[(u64, &'a [u8])], number: u64) -> Option<&'a [u8]> {
    fields.iter().find(|(n, _)| *n == number).map(|(_, b)| *b)
}

fn strings(bytes: &[u8], names: &[(u64, &str)]) -> Result<Map<String, Value>, String> {
    let parsed = fields(bytes)?;
    let mut map = Map::new();
    for (number, name) in names {
        if let Some(value) = field(&parsed, *number) {
            map.insert((*name).to_owned(), json!(String::from_utf8_lossy(value)));
        }
    }
    Ok(map)
}

/// Decodes a SelfSubjectAccessReview or SelfSubjectReview request into its JSON form.
pub fn decode_review(kind: &str, api_version: &str, body: &[u8]) -> Result<Value, String> {
    let envelope = body.strip_prefix(MAGIC).ok_or("not a Kubernetes protobuf envelope")?;
    let raw = field(&fields(envelope)?, 2).ok_or("the envelope holds no object")?;
    let object = fields(raw)?;
    let mut spec = Map::new();
    if kind == "SelfSubjectAccessReview"
        && let Some(spec_bytes) = field(&object, 2)
    {
        let spec_fields = fields(spec_bytes)?;
        if let Some(attrs) = field(&spec_fields, 1) {
            let names = [
                (1, "namespace"),
                (2, "verb"),
                (3, "group"),
                (4, "version"),
                (5, "resource"),
                (6, "subresource"),
                (7, "name"),
            ];
            spec.insert("resourceAttributes".into(), Value::Object(strings(attrs, &names)?));
        }
        if let Some(attrs) = field(&spec_fields, 2) {
            spec.insert(
                "nonResourceAttributes".into(),
                Value::Object(strings(attrs, &[(1, "path"), (2, "verb")])?),
            );
        }
    }
    Ok(json!({"kind": kind, "apiVersion": api_version, "metadata": {}, "spec": spec}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len_field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, u8::try_from(bytes.len()).expect("short")];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_an_access_review_as_kubectl_sends_it() {
        let attrs = [
            len_field(1, b"shop"),
            len_field(2, b"patch"),
            len_field(3, b"apps"),
            len_field(5, b"deployments"),
        ]
        .concat();
        let spec = len_field(1, &attrs);
        let review = [len_field(1, b""), len_field(2, &spec)].concat();
        let type_meta =
            [len_field(1, b"authorization.k8s.io/v1"), len_field(2, b"SelfSubjectAccessReview")].concat();
        let envelope = [MAGIC.to_vec(), len_field(1, &type_meta), len_field(2, &review)].concat();
        let json =
            decode_review("SelfSubjectAccessReview", "authorization.k8s.io/v1", &envelope).expect("decodes");
        assert_eq!(
            json["spec"]["resourceAttributes"],
            json!({"namespace": "shop", "verb": "patch", "group": "apps", "resource": "deployments"})
        );
    }

    #[test]
    fn refuses_what_is_not_an_envelope() {
        assert!(decode_review("SelfSubjectReview", "authentication.k8s.io/v1", b"{}").is_err());
        assert!(decode_review("SelfSubjectReview", "authentication.k8s.io/v1", b"k8s\0\x12\x05ab").is_err());
    }
}
