//! Stable logical addresses: `kind.name` or `kind.name["key"]`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: String,
    pub name: String,
    pub key: Option<String>,
}

impl Address {
    pub fn new(kind: &str, name: &str) -> Self {
        Address { kind: kind.into(), name: name.into(), key: None }
    }

    pub fn keyed(kind: &str, name: &str, key: &str) -> Self {
        Address { kind: kind.into(), name: name.into(), key: Some(key.into()) }
    }

    /// The same name and key under another kind: `subnet.intra["a"]` → `route_table_association.intra["a"]`.
    pub fn with_kind(&self, kind: &str) -> Self {
        Address { kind: kind.into(), ..self.clone() }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (head, key) = match text.find('[') {
            Some(i) => {
                let rest = text[i..].strip_prefix("[\"")?.strip_suffix("\"]")?;
                (&text[..i], Some(rest.to_string()))
            }
            None => (text, None),
        };
        let (kind, name) = head.split_once('.')?;
        if kind.is_empty() || name.is_empty() || name.contains('.') {
            return None;
        }
        Some(Address { kind: kind.into(), name: name.into(), key })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)?;
        if let Some(key) = &self.key {
            write!(f, "[\"{key}\"]")?;
        }
        Ok(())
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Address::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("bad address `{text}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_keyed_and_plain_addresses() {
        for text in ["vpc.main", "subnet.intra[\"us-west-2a\"]", "vpc_cidr.secondary[\"100.64.0.0/16\"]"] {
            assert_eq!(Address::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Address::parse("subnet.intra[\"a\"]").unwrap().key.as_deref(), Some("a"));
        assert!(Address::parse("vpc").is_none());
        assert!(Address::parse("subnet.x[a]").is_none());
    }
}
