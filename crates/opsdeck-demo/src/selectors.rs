//! Label and field selectors, parsed and matched the way the Kubernetes API server does it.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Operator {
    /// Also `=` and `==`, as a one-value set.
    In,
    /// Also `!=`; like the API server, an absent label satisfies it.
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    fn matches(&self, labels: Option<&Value>) -> bool {
        let value = labels.and_then(|l| l.get(&self.key)).and_then(Value::as_str);
        let listed = value.is_some_and(|v| self.values.iter().any(|x| x == v));
        match self.operator {
            Operator::In => listed,
            Operator::NotIn => !listed,
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

/// A set of label requirements, all of which must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Not,
    Equals,
    NotEquals,
    Open,
    Close,
    Comma,
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "end of string".into(),
        Some(Token::Word(w)) => format!("{w:?}"),
        Some(Token::Not) => "'!'".into(),
        Some(Token::Equals) => "'='".into(),
        Some(Token::NotEquals) => "'!='".into(),
        Some(Token::Open) => "'('".into(),
        Some(Token::Close) => "')'".into(),
        Some(Token::Comma) => "','".into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '=' => {
                chars.next_if_eq(&'=');
                Token::Equals
            }
            '!' if chars.next_if_eq(&'=').is_some() => Token::NotEquals,
            '!' => Token::Not,
            '<' | '>' => return Err(format!("the {c:?} operator is not supported")),
            c => {
                let mut word = c.to_string();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace() && !"()=,!<>".contains(*c)) {
                    word.push(c);
                }
                Token::Word(word)
            }
        };
        tokens.push(token);
    }
    Ok(tokens)
}

fn valid_key(key: &str) -> Result<String, String> {
    let ok = |part: &str, extra: &str| {
        !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    let (prefix, name) = key.rsplit_once('/').map_or((None, key), |(p, n)| (Some(p), n));
    if ok(name, "-_.") && name.len() <= 63 && prefix.is_none_or(|p| ok(p, "-.") && p.len() <= 253) {
        Ok(key.to_string())
    } else {
        Err(format!("invalid label key {key:?}"))
    }
}

fn valid_value(value: &str) -> Result<String, String> {
    if value.len() <= 63 && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        Ok(value.to_string())
    } else {
        Err(format!("invalid label value {value:?}"))
    }
}

impl LabelSelector {
    /// Parses the `labelSelector` query syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x, y)`, `a`
    /// (exists), `!a` (not exists), comma-separated, whitespace tolerated. Empty string = everything.
    ///
    /// # Errors
    /// A message naming the offending token when the text is not a selector.
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens = tokenize(text)?;
        let mut rest = tokens.iter().peekable();
        let mut requirements = Vec::new();
        if rest.peek().is_none() {
            return Ok(Self { requirements });
        }
        loop {
            let negated = rest.next_if_eq(&&Token::Not).is_some();
            let key = match rest.next() {
                Some(Token::Word(word)) => valid_key(word)?,
                other => return Err(format!("found {}, expected: !, or identifier", describe(other))),
            };
            let (operator, values) = if negated {
                (Operator::DoesNotExist, Vec::new())
            } else {
                match rest.next_if(|t| !matches!(t, Token::Comma)) {
                    None => (Operator::Exists, Vec::new()),
                    Some(Token::Equals) => (Operator::In, vec![single_value(&mut rest)?]),
                    Some(Token::NotEquals) => (Operator::NotIn, vec![single_value(&mut rest)?]),
                    Some(Token::Word(w)) if w == "in" => (Operator::In, value_set(&mut rest)?),
                    Some(Token::Word(w)) if w == "notin" => (Operator::NotIn, value_set(&mut rest)?),
                    other => {
                        return Err(format!("found {}, expected: in, notin, =, ==, !=", describe(other)));
                    }
                }
            };
            requirements.push(Requirement { key, operator, values });
            match rest.next() {
                None => return Ok(Self { requirements }),
                Some(Token::Comma) => {}
                other => return Err(format!("found {}, expected: ',' or end of string", describe(other))),
            }
        }
    }

    /// `labels` is the object's `metadata.labels` (may be absent/null = no labels).
    #[must_use]
    pub fn matches(&self, labels: Option<&Value>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Builds a selector from a Kubernetes `LabelSelector` object as JSON (`matchLabels` and
    /// `matchExpressions`), as used in a Deployment's spec.selector. An empty/absent selector matches everything.
    ///
    /// # Errors
    /// A message when the object is not a well-formed `LabelSelector`.
    pub fn from_object(selector: &Value) -> Result<Self, String> {
        let mut requirements = Vec::new();
        if selector.is_null() {
            return Ok(Self { requirements });
        }
        let selector = selector.as_object().ok_or("a label selector must be an object")?;
        if let Some(labels) = selector.get("matchLabels").filter(|l| !l.is_null()) {
            for (key, value) in labels.as_object().ok_or("matchLabels must be an object")? {
                let value = value.as_str().ok_or_else(|| format!("matchLabels.{key} must be a string"))?;
                requirements.push(Requirement {
                    key: valid_key(key)?,
                    operator: Operator::In,
                    values: vec![valid_value(value)?],
                });
            }
        }
        let expressions = selector.get("matchExpressions").filter(|e| !e.is_null());
        for expression in
            expressions.map_or(Ok(&Vec::new()), |e| e.as_array().ok_or("matchExpressions must be a list"))?
        {
            let key =
                expression.get("key").and_then(Value::as_str).ok_or("a match expression needs a key")?;
            let values = match expression.get("values") {
                None | Some(Value::Null) => Vec::new(),
                Some(values) => {
                    let strings = values
                        .as_array()
                        .and_then(|v| v.iter().map(Value::as_str).collect::<Option<Vec<_>>>());
                    let strings =
                        strings.ok_or_else(|| format!("the values for {key:?} must be a list of strings"))?;
                    strings.into_iter().map(valid_value).collect::<Result<Vec<_>, _>>()?
                }
            };
            let operator = match expression.get("operator").and_then(Value::as_str) {
                Some("In") => Operator::In,
                Some("NotIn") => Operator::NotIn,
                Some("Exists") => Operator::Exists,
                Some("DoesNotExist") => Operator::DoesNotExist,
                other => return Err(format!("{other:?} is not a valid label selector operator")),
            };
            let needs_values = matches!(operator, Operator::In | Operator::NotIn);
            if needs_values == values.is_empty() {
                let must = if needs_values { "must be non-empty" } else { "must be empty" };
                return Err(format!("the values for {key:?} {must} with operator {operator:?}"));
            }
            requirements.push(Requirement { key: valid_key(key)?, operator, values });
        }
        Ok(Self { requirements })
    }
}

type Tokens<'a> = std::iter::Peekable<std::slice::Iter<'a, Token>>;

fn single_value(rest: &mut Tokens) -> Result<String, String> {
    match rest.next_if(|t| matches!(t, Token::Word(_))) {
        Some(Token::Word(word)) => valid_value(word),
        // The API server takes `a=` as "label a is empty".
        _ => Ok(String::new()),
    }
}

fn value_set(rest: &mut Tokens) -> Result<Vec<String>, String> {
    match rest.next() {
        Some(Token::Open) => {}
        other => return Err(format!("found {}, expected: '('", describe(other))),
    }
    let mut values = Vec::new();
    loop {
        values.push(match rest.next_if(|t| matches!(t, Token::Word(_))) {
            Some(Token::Word(word)) => valid_value(word)?,
            _ => String::new(),
        });
        match rest.next() {
            Some(Token::Comma) => {}
            Some(Token::Close) if values.iter().any(|v| !v.is_empty()) => return Ok(values),
            Some(Token::Close) => return Err("a value set must not be empty".into()),
            other => return Err(format!("found {}, expected: ',' or ')'", describe(other))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct FieldRequirement {
    path: Vec<String>,
    value: String,
    equal: bool,
}

/// A set of `path=value` / `path!=value` requirements on an object's fields, all of which must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// `fieldSelector` syntax: comma-separated `path=value`, `path==value`, `path!=value`, where path is a
    /// dotted JSON path such as `metadata.name` or `involvedObject.kind`. Empty = everything. Escapes `\,`
    /// `\=` `\\` in values are honoured.
    ///
    /// # Errors
    /// A message when a term has no operator, an empty path, or a bad escape.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in split_unescaped(text, ',').into_iter().filter(|t| !t.is_empty()) {
            let (path, operator, value) =
                split_term(term).ok_or_else(|| format!("invalid selector term {term:?}"))?;
            let path = path.trim();
            if path.is_empty() || path.split('.').any(str::is_empty) {
                return Err(format!("invalid field path in {term:?}"));
            }
            requirements.push(FieldRequirement {
                path: path.split('.').map(String::from).collect(),
                value: unescape(value)?,
                equal: operator != "!=",
            });
        }
        Ok(Self { requirements })
    }

    /// Looks each path up in the object; a missing field compares as the empty string (as the API server
    /// does for e.g. spec.nodeName of an unscheduled pod).
    #[must_use]
    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|r| {
            let found = r.path.iter().try_fold(object, |value, key| value.get(key));
            let actual = match found {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            (actual == r.value) == r.equal
        })
    }
}

/// Splits at each `separator` not preceded by a backslash escape, keeping escapes for [`unescape`].
fn split_unescaped(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(&text[start..i]);
            start = i + 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The path, operator and still-escaped value of one term, split at its first unescaped operator.
fn split_term(term: &str) -> Option<(&str, &str, &str)> {
    let mut escaped = false;
    for (i, c) in term.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        let rest = &term[i..];
        if let Some(op) = ["!=", "==", "="].into_iter().find(|op| rest.starts_with(op)) {
            return Some((&term[..i], op, &rest[op.len()..]));
        }
        escaped = c == '\\';
    }
    None
}

fn unescape(value: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => return Err(format!("invalid escape sequence \\{e} in {value:?}")),
                None => return Err(format!("a trailing backslash in {value:?}")),
            },
            // The API server rejects an unescaped operator in a value.
            '=' | ',' => {
                return Err(format!("invalid field selector value {value:?}: {c:?} must be escaped"));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels() -> Value {
        json!({"app": "web", "tier": "frontend", "app.kubernetes.io/part-of": "shop", "empty": ""})
    }

    fn selects(text: &str) -> bool {
        LabelSelector::parse(text).unwrap().matches(Some(&labels()))
    }

    #[test]
    fn label_operators() {
        assert!(selects("app=web") && selects("app==web") && selects("app = web"));
        assert!(!selects("app=api") && selects("app!=api") && !selects("app!=web") && selects("missing!=x"));
        assert!(selects("tier in (frontend, backend)") && !selects("tier in (backend)"));
        assert!(
            selects("tier notin (backend,db)") && !selects("tier notin (frontend)") && selects("x notin (a)")
        );
        assert!(selects("app") && !selects("missing") && selects("!missing") && !selects("! app"));
        assert!(selects("app.kubernetes.io/part-of=shop") && selects("empty=") && !selects("app="));
        assert!(selects("") && selects("  "));
    }

    #[test]
    fn label_requirements_are_anded() {
        assert!(selects("app=web,tier in (frontend),!canary"));
        assert!(!selects("app=web, tier=backend"));
        let selector = LabelSelector::parse("app").unwrap();
        assert!(!selector.matches(None) && !selector.matches(Some(&Value::Null)));
        assert!(LabelSelector::parse("!app").unwrap().matches(None));
        assert!(LabelSelector::parse("app!=web").unwrap().matches(None));
    }

    #[test]
    fn label_syntax_errors() {
        for bad in [
            "a in (x", "=b", "a in x", "a in ()", "a,", ",a", "a=b=c", "a b", "!a=b", "a=(b)", "a>1", "a=b c",
        ] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn label_selector_from_object() {
        let selector = LabelSelector::from_object(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "app.kubernetes.io/part-of", "operator": "Exists", "values": []},
            ],
        }))
        .unwrap();
        assert!(selector.matches(Some(&labels())));
        assert!(!selector.matches(Some(&json!({"app": "web", "tier": "frontend"}))));
        assert!(LabelSelector::from_object(&json!({})).unwrap().matches(None));
        assert!(LabelSelector::from_object(&Value::Null).unwrap().matches(Some(&labels())));
        let notin =
            json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]});
        assert!(!LabelSelector::from_object(&notin).unwrap().matches(Some(&labels())));
        for bad in [
            json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}),
            json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
            json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}),
            json!({"matchLabels": {"a": 1}}),
            json!("app=web"),
        ] {
            assert!(LabelSelector::from_object(&bad).is_err(), "{bad} accepted");
        }
    }

    fn event() -> Value {
        json!({
            "metadata": {"name": "web-1.17f", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop", "uid": "u-1"},
            "type": "Warning",
            "reason": "BackOff",
            "count": 3,
        })
    }

    fn fields(text: &str, object: &Value) -> bool {
        FieldSelector::parse(text).unwrap().matches(object)
    }

    #[test]
    fn field_selector_on_an_event() {
        assert!(fields("involvedObject.name=web-1,type=Warning", &event()));
        assert!(fields("involvedObject.kind==Pod,involvedObject.namespace=shop,reason!=Killing", &event()));
        assert!(!fields("involvedObject.name=web-1,type=Normal", &event()));
        assert!(!fields("involvedObject.uid!=u-1", &event()));
        assert!(fields("count=3", &event()) && fields("", &event()));
    }

    #[test]
    fn field_selector_missing_fields_are_empty() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {}, "status": {"phase": "Pending"}});
        assert!(fields("spec.nodeName!=node-1", &pod));
        assert!(!fields("spec.nodeName!=", &pod));
        assert!(fields("spec.nodeName=", &pod) && fields("status.phase=Pending", &pod));
        assert!(!fields("spec.nodeName=node-1", &pod));
    }

    #[test]
    fn field_selector_escapes_and_errors() {
        let object = json!({"reason": "a,b=c\\d"});
        assert!(fields(r"reason=a\,b\=c\\d", &object));
        assert!(!fields(r"reason=a\,b", &object));
        for bad in ["reason", "=x", "reason=a=b", r"reason=a\n", "reason=a\\", "a..b=c"] {
            assert!(FieldSelector::parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
