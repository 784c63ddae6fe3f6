//! The state as an S3 object, for teams and CI. Every write is conditional: `If-Match` on the
//! ETag this run last read or wrote (`If-None-Match: *` for the first), so a lost update is
//! impossible; the lock is a second object created with `If-None-Match: *`. The previous state
//! is kept by the bucket's versioning, or, when versioning is off, as `<key>.backup`.
//!
//! The lock object carries a lease: it expires `LEASE` after its last renewal, and its holder
//! renews it every `LEASE / 4` while it runs. A run that finds an expired lock takes it over
//! with a conditional write on the ETag it read (`If-Match`), so two runs cannot both take it; a
//! live holder's lock is never taken. A run that is killed thus holds the state for at most
//! `LEASE`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::BucketVersioningStatus;

use crate::diagnostic::{help, maybe_help};
use crate::lock::{LockInfo, held_error};
use crate::provider::ApiError;
use crate::state::State;

pub struct Remote {
    client: Client,
    bucket: String,
    key: String,
    seen: Mutex<Seen>,
}

/// The state object as this run last read or wrote it.
#[derive(Default, Clone)]
struct Seen {
    etag: Option<String>,
    body: Option<Vec<u8>>,
    /// Whether the bucket keeps versions (asked once, at the first write).
    versioned: Option<bool>,
}

pub struct RemoteLock {
    client: Client,
    bucket: String,
    key: String,
    /// The lock object's ETag as this run last wrote it (the renewals move it).
    etag: Arc<Mutex<Option<String>>>,
    renewal: tokio::task::JoinHandle<()>,
    pub info: LockInfo,
    /// Said when the lock was taken over from a holder whose lease had run out.
    pub took_over: Option<String>,
}

/// How long a lock lasts without renewal: 2 minutes (`EKSNET_LOCK_LEASE`, in seconds, to change
/// it, e.g. in tests).
fn lease() -> Duration {
    let secs = std::env::var("EKSNET_LOCK_LEASE").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(120);
    Duration::from_secs(secs.max(1))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// HTTP status of a failed call, when S3 answered.
fn status<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// A conditional write lost: 412 Precondition Failed, or 409 when two writes race.
fn lost_condition<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    matches!(status(e), Some(412 | 409))
}

/// `what` failed: the API's own code and message, and the fix for the usual S3 failures.
fn failed(what: String, error: impl Into<ApiError>, bucket: &str) -> anyhow::Error {
    let error = error.into();
    let fix = match error.code.as_str() {
        "NoSuchBucket" => Some(format!("create the bucket `{bucket}` (and enable versioning on it), or fix `state.bucket` in the stack")),
        "AccessDenied" | "Forbidden" => Some(
            "the credentials need s3:GetObject, s3:PutObject and s3:DeleteObject on the state key, `<key>.lock` and `<key>.backup`, and s3:ListBucket on the bucket (without it S3 answers AccessDenied for a state that does not exist yet)".to_string(),
        ),
        "PermanentRedirect" | "AuthorizationHeaderMalformed" => Some("set `state.region` to the bucket's region".to_string()),
        _ => None,
    };
    maybe_help(format!("{what}: {error}"), fix)
}

impl Remote {
    pub fn new(config: &SdkConfig, bucket: &str, key: &str, path_style: bool) -> Remote {
        let conf = aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).build();
        Remote { client: Client::from_conf(conf), bucket: bucket.into(), key: key.into(), seen: Mutex::default() }
    }

    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    fn seen(&self) -> Seen {
        self.seen.lock().expect("seen").clone()
    }

    /// The state object's bytes and ETag, None when it does not exist.
    async fn fetch(&self) -> anyhow::Result<Option<(Vec<u8>, Option<String>)>> {
        match self.client.get_object().bucket(&self.bucket).key(&self.key).send().await {
            Ok(out) => {
                let etag = out.e_tag.clone();
                let body = out.body.collect().await.with_context(|| format!("cannot read the state {}", self.location()))?.to_vec();
                Ok(Some((body, etag)))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(failed(format!("cannot read the state {}", self.location()), e, &self.bucket)),
        }
    }

    pub async fn load(&self) -> anyhow::Result<Option<State>> {
        let found = self.fetch().await?;
        let state = match &found {
            Some((body, _)) => Some(crate::state::parse(&String::from_utf8_lossy(body), &self.location(), "the bucket's object versions")?),
            None => None,
        };
        let mut seen = self.seen.lock().expect("seen");
        (seen.body, seen.etag) = match found {
            Some((body, etag)) => (Some(body), etag),
            None => (None, None),
        };
        Ok(state)
    }

    pub async fn save(&self, state: &mut State) -> anyhow::Result<()> {
        let seen = self.seen();
        let versioned = match seen.versioned {
            Some(v) => v,
            None => {
                let v = self.is_versioned().await;
                self.seen.lock().expect("seen").versioned = Some(v);
                v
            }
        };
        if let (false, Some(previous)) = (versioned, &seen.body) {
            let backup = format!("{}.backup", self.key);
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&backup)
                .content_type("application/json")
                .body(ByteStream::from(previous.clone()))
                .send()
                .await
                .map_err(|e| failed(format!("cannot keep the previous state as s3://{}/{backup}", self.bucket), e, &self.bucket))?;
        }
        let mut body = serde_json::to_vec_pretty(&State { serial: state.serial + 1, ..state.clone() })?;
        body.push(b'\n');
        let put = self.client.put_object().bucket(&self.bucket).key(&self.key).content_type("application/json").body(ByteStream::from(body.clone()));
        let put = match &seen.etag {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        let etag = match put.send().await {
            Ok(out) => out.e_tag,
            // A retried PUT whose first attempt landed (its answer was lost) fails its own
            // condition: the object then holds exactly these bytes, and that is a success.
            Err(e) if lost_condition(&e) => match self.fetch().await? {
                Some((current, etag)) if current == body => etag,
                _ => {
                    return Err(help(
                        format!("the state {} changed since this run read it (another writer?); eksnet did not overwrite it", self.location()),
                        "what this run created carries its tags and is adopted by the next run; find out who else wrote the state (was its lock removed with `state unlock`?), then run `eksnet plan` again",
                    ));
                }
            },
            Err(e) => return Err(failed(format!("cannot write the state {}", self.location()), e, &self.bucket)),
        };
        state.serial += 1;
        let mut seen = self.seen.lock().expect("seen");
        seen.etag = etag;
        seen.body = Some(body);
        Ok(())
    }

    async fn is_versioned(&self) -> bool {
        match self.client.get_bucket_versioning().bucket(&self.bucket).send().await {
            Ok(out) => out.status() == Some(&BucketVersioningStatus::Enabled),
            Err(_) => false,
        }
    }

    /// The current lock object: its holder (None when unreadable) and ETag; None when unlocked.
    async fn read_lock(&self) -> anyhow::Result<Option<(Option<LockInfo>, Option<String>)>> {
        match self.client.get_object().bucket(&self.bucket).key(self.lock_key()).send().await {
            Ok(out) => {
                let etag = out.e_tag.clone();
                let body = out.body.collect().await.map(|b| b.to_vec()).unwrap_or_default();
                Ok(Some((serde_json::from_slice(&body).ok(), etag)))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(failed(format!("cannot read the lock s3://{}/{}", self.bucket, self.lock_key()), e, &self.bucket)),
        }
    }

    pub async fn lock(&self, command: &str, timeout: Duration) -> anyhow::Result<RemoteLock> {
        let mut info = LockInfo::new(command);
        info.expires = Some(unix_now() + lease().as_secs());
        let body = serde_json::to_vec_pretty(&info)?;
        let deadline = Instant::now() + timeout;
        loop {
            let put = self.client.put_object().bucket(&self.bucket).key(self.lock_key()).content_type("application/json").if_none_match("*");
            match put.body(ByteStream::from(body.clone())).send().await {
                Ok(out) => return Ok(self.held(out.e_tag, info, None)),
                Err(e) if lost_condition(&e) => match self.read_lock().await? {
                    // A retry whose first attempt landed (its answer was lost): the lock is ours.
                    Some((Some(holder), etag)) if holder.id == info.id => return Ok(self.held(etag, info, None)),
                    // Released in the meantime: try again.
                    None => continue,
                    // Its holder stopped renewing it: take it over, on the ETag read, so that of
                    // two runs doing so one wins and the other finds a live lock.
                    Some((Some(holder), Some(etag))) if holder.expired(unix_now()) => {
                        let put = self.client.put_object().bucket(&self.bucket).key(self.lock_key()).content_type("application/json").if_match(&etag);
                        match put.body(ByteStream::from(body.clone())).send().await {
                            Ok(out) => {
                                let said = format!("took over the lock of {}, whose lease ran out (it stopped renewing it: killed?)", holder.describe());
                                return Ok(self.held(out.e_tag, info, Some(said)));
                            }
                            Err(e) if lost_condition(&e) => continue,
                            Err(e) => return Err(failed(format!("cannot lock the state {}", self.location()), e, &self.bucket)),
                        }
                    }
                    Some(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_secs(1)).await,
                    Some((holder, _)) => return Err(held_error(holder, &format!("s3://{}/{}", self.bucket, self.lock_key()))),
                },
                Err(e) => return Err(failed(format!("cannot lock the state {}", self.location()), e, &self.bucket)),
            }
        }
    }

    /// The lock as held, with its renewal running every quarter of the lease.
    fn held(&self, etag: Option<String>, info: LockInfo, took_over: Option<String>) -> RemoteLock {
        let etag = Arc::new(Mutex::new(etag));
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.lock_key());
        let (renewed, mut lease_info) = (Arc::clone(&etag), info.clone());
        let renewal = tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease() / 4).await;
                lease_info.expires = Some(unix_now() + lease().as_secs());
                let Ok(body) = serde_json::to_vec_pretty(&lease_info) else { return };
                let current = renewed.lock().expect("etag").clone();
                let put = client.put_object().bucket(&bucket).key(&key).content_type("application/json");
                let put = match current {
                    Some(etag) => put.if_match(etag),
                    None => put,
                };
                // A failed renewal is tried again at the next beat; one that lost its condition
                // means the lock is no longer this run's (taken over): nothing more to renew.
                match put.body(ByteStream::from(body)).send().await {
                    Ok(out) => *renewed.lock().expect("etag") = out.e_tag,
                    Err(e) if lost_condition(&e) => return,
                    Err(_) => {}
                }
            }
        });
        RemoteLock { client: self.client.clone(), bucket: self.bucket.clone(), key: self.lock_key(), etag, renewal, info, took_over }
    }

    pub async fn unlock(&self, id: &str) -> anyhow::Result<LockInfo> {
        let (holder, etag) = match self.read_lock().await? {
            None => bail!("the state {} is not locked", self.location()),
            Some((None, _)) => bail!("the lock s3://{}/{} cannot be read; delete it with the AWS CLI if no eksnet runs", self.bucket, self.lock_key()),
            Some((Some(h), etag)) => (h, etag),
        };
        if holder.id != id {
            bail!("the lock is held by {} whose id is not `{id}`", holder.describe());
        }
        let delete = self.client.delete_object().bucket(&self.bucket).key(self.lock_key());
        let delete = match etag {
            Some(etag) => delete.if_match(etag),
            None => delete,
        };
        delete.send().await.map_err(|e| failed("cannot remove the lock".into(), e, &self.bucket))?;
        Ok(holder)
    }
}

impl RemoteLock {
    /// Deletes the lock object, only if it is still this run's; says why when it cannot.
    pub async fn release(self) -> Option<String> {
        self.renewal.abort();
        let _ = self.renewal.await;
        let etag = self.etag.lock().expect("etag").clone();
        let delete = self.client.delete_object().bucket(&self.bucket).key(&self.key);
        let delete = match &etag {
            Some(etag) => delete.if_match(etag),
            None => delete,
        };
        match delete.send().await {
            // Gone already: a retried DELETE whose first attempt landed.
            Ok(_) => None,
            Err(e) if status(&e) == Some(404) => None,
            Err(e) => {
                let why = if lost_condition(&e) { "it was replaced by another run".to_string() } else { ApiError::from(e).to_string() };
                Some(format!(
                    "could not release the lock s3://{}/{} ({why}); if no eksnet runs, `eksnet state unlock {}` removes it",
                    self.bucket, self.key, self.info.id
                ))
            }
        }
    }
}
