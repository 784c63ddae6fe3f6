//! Where the state lives: a local file, or an S3 bucket and key.

use serde_saphyr::Spanned;

use super::super::model::StackFile;
use super::{Checker, hint_for};
use crate::backend::BackendConfig;

/// The `state:` section: a local file (the default) or an S3 object.
pub(super) fn backend(c: &mut Checker, raw: &StackFile, stack_region: &str) -> BackendConfig {
    let Some(spec) = &raw.state else { return BackendConfig::Local };
    let s = &spec.value;
    let stray = |c: &mut Checker, field: &Option<Spanned<String>>, name: &str| {
        if let Some(f) = field {
            c.error(f, format!("`state.{name}` only applies to the s3 backend"), "remove it, or set `backend: s3`");
        }
    };
    match s.backend.value.as_str() {
        "local" => {
            stray(c, &s.bucket, "bucket");
            stray(c, &s.key, "key");
            stray(c, &s.region, "region");
            BackendConfig::Local
        }
        "s3" => {
            let bucket = match &s.bucket {
                None => {
                    c.error(
                        spec,
                        "the s3 state backend needs a `bucket`",
                        "add `bucket: my-team-eksnet-state` (the bucket must exist; enable versioning on it)",
                    );
                    String::new()
                }
                Some(b) => {
                    if !is_bucket_name(&b.value) {
                        c.error(
                            b,
                            format!("`{}` is not an S3 bucket name", b.value),
                            "use 3-63 lower-case letters, digits, dots and dashes, starting and ending with a letter or digit",
                        );
                    }
                    b.value.clone()
                }
            };
            let key = match &s.key {
                None => {
                    c.error(spec, "the s3 state backend needs a `key`", "add `key: eksnet/<stack>.state.json`, the object that holds the state");
                    String::new()
                }
                Some(k) => {
                    if k.value.is_empty() || k.value.ends_with('/') || k.value.len() > 1000 {
                        c.error(
                            k,
                            format!("`{}` cannot name the state object", k.value),
                            "use a key such as `eksnet/prod.state.json` (not empty, not ending in /)",
                        );
                    }
                    k.value.clone()
                }
            };
            let region = match &s.region {
                Some(r) if !is_region_name(&r.value) => {
                    c.error(r, format!("`{}` is not an AWS region name", r.value), "use the bucket's region, e.g. us-east-1");
                    r.value.clone()
                }
                Some(r) => r.value.clone(),
                None => stack_region.to_string(),
            };
            BackendConfig::S3 { bucket, key, region, use_path_style: s.use_path_style }
        }
        other => {
            c.error(&s.backend, format!("unknown state backend `{other}`"), &hint_for(other, &["local", "s3"], "use `local` (a file under .eksnet/) or `s3`"));
            BackendConfig::Local
        }
    }
}

fn is_bucket_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().last())
        && !name.contains("..")
}

pub(super) fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}
