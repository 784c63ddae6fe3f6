//! `Memory`: a `Provider` whose cloud is a list in memory, the engine's test double. With it,
//! refresh, plan and `apply::Run` are tested in milliseconds without AWS (`apply/tests.rs`).
//!
//! Its kinds behave like small AWS kinds:
//! - `net` (a VPC): tagged; a new `cidr` forces a new object.
//! - `sub` (a subnet in a net): tagged; a new `cidr` or `net_id` forces a new object.
//! - `gw` (a gateway in a net): tagged; nothing forces a new object; it may list subnets it
//!   keeps a foot in (`sub_ids`, like a cluster's subnets), changed in place.
//! - `assoc` (a subnet's route through a gateway): no tags of its own, found through its
//!   subnet (`parent: sub_id`); a new `sub_id` forces a new object, a new `gw_id` is an update.
//!
//! Like the cloud, it refuses what would be a bug in the engine: an unresolved reference, an
//! `*_id` (or item of a `*_ids` list) naming no object (a create before what it references), a
//! delete of an object another one still names (`DependencyViolation`). Unlike AWS, its reads ignore the stack: every
//! object of a kind is returned, as by a filter that did not hold, so the ownership check in
//! `apply::refresh` is what keeps other stacks' objects out.
//!
//! For tests: `seed` puts objects in place (one created before a crash, another stack's,
//! another state's), `fail` and `lose_answer` script failures, `delay` makes every call take
//! time so that concurrency shows, and `calls` is the log of creates, updates and deletes.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};

use crate::address::Address;
use crate::ownership::ADDRESS_TAG;
use crate::provider::{ApiError, Found, Observed, Provider, Result, Schema, Scope};
use crate::reporter::Verb;
use crate::value::{Attrs, contains_unknown};

pub const KINDS: &[&str] = &["net", "sub", "gw", "assoc"];

/// One create, update or delete, on a logical clock: every start and every end takes the next
/// tick, so two calls ran at the same time exactly when each started before the other ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub verb: Verb,
    pub address: Address,
    pub start: u64,
    pub end: u64,
    /// The error code, when the call failed.
    pub error: Option<String>,
}

impl Call {
    pub fn overlaps(&self, other: &Call) -> bool {
        self.start < other.end && other.start < self.end
    }
}

struct Object {
    id: String,
    /// Where the object is, for kinds without tags (for the others, the address tag says).
    address: Address,
    attrs: Attrs,
    token: Option<String>,
}

impl Object {
    fn observed(&self) -> Observed {
        let mut outputs = Attrs::new();
        outputs.insert("id".into(), json!(self.id));
        Observed { id: self.id.clone(), attrs: self.attrs.clone(), outputs }
    }
}

struct Fault {
    verb: Verb,
    address: Address,
    code: String,
    /// How many more calls fail; None: every one.
    times: Option<usize>,
    /// The call does its work, then fails (its answer was lost).
    after: bool,
}

#[derive(Default)]
struct World {
    objects: Vec<Object>,
    next_id: u64,
    tick: u64,
    calls: Vec<Call>,
    faults: Vec<Fault>,
    /// Objects the next N reads of their kind leave out (a listing that is not consistent yet).
    hidden: Vec<(Address, usize)>,
}

impl World {
    fn tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn new_id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("{kind}-{:04}", self.next_id)
    }

    /// The failure scripted for this call, if any: (code, whether the work is done first).
    fn fault(&mut self, verb: Verb, address: &Address) -> Option<(String, bool)> {
        let i = self.faults.iter().position(|f| f.verb == verb && &f.address == address && f.times != Some(0))?;
        let f = &mut self.faults[i];
        if let Some(n) = &mut f.times {
            *n -= 1;
        }
        Some((f.code.clone(), f.after))
    }

    /// Refuses attributes the engine should never send.
    fn check(&self, attrs: &Attrs) -> Result<()> {
        if contains_unknown(&Value::Object(attrs.clone())) {
            return Err(ApiError::new("InvalidParameterValue", "an attribute is an unresolved reference"));
        }
        for (key, id) in named(attrs) {
            if !self.objects.iter().any(|o| o.id == id) {
                return Err(ApiError::new("InvalidID.NotFound", format!("{key} {id} does not exist")));
            }
        }
        Ok(())
    }
}

/// The ids an object names: its `*_id` attributes and the items of its `*_ids` lists.
fn named(attrs: &Attrs) -> impl Iterator<Item = (&str, &str)> {
    attrs.iter().flat_map(|(key, value)| {
        let ids: Vec<&str> = match value {
            Value::String(id) if key.ends_with("_id") => vec![id.as_str()],
            Value::Array(items) if key.ends_with("_ids") => items.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        ids.into_iter().map(move |id| (key.as_str(), id))
    })
}

#[derive(Default)]
pub struct Memory {
    world: Mutex<World>,
    delay: Duration,
    /// `Provider::listing_lag`: the pauses before a read again.
    lag: &'static [Duration],
}

impl Memory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every create, update and delete takes `delay` (between its start and its end).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads are eventually consistent: a recorded object missing from a read is read again
    /// after these pauses.
    pub fn lagging(mut self, lag: &'static [Duration]) -> Self {
        self.lag = lag;
        self
    }

    /// The next `reads` reads of the kind of `address` leave its object out, as a listing does
    /// for an object made seconds ago.
    pub fn hide(&self, address: &Address, reads: usize) {
        self.world().hidden.push((address.clone(), reads));
    }

    /// Puts an object in place, as if made earlier, with the attributes (and tags) given;
    /// returns its id.
    pub fn seed(&self, address: &Address, attrs: Attrs) -> String {
        let mut w = self.world();
        let id = w.new_id(&address.kind);
        w.objects.push(Object { id: id.clone(), address: address.clone(), attrs, token: None });
        id
    }

    /// The next `times` calls (None: every call) of `verb` on `address` fail with `code` and
    /// change nothing.
    pub fn fail(&self, verb: Verb, address: &Address, code: &str, times: Option<usize>) {
        self.world().faults.push(Fault { verb, address: address.clone(), code: code.into(), times, after: false });
    }

    /// The next create of `address` makes the object, then fails with `code`: a create whose
    /// answer never arrived (a timeout, or eksnet killed during the call).
    pub fn lose_answer(&self, address: &Address, code: &str) {
        self.world().faults.push(Fault { verb: Verb::Create, address: address.clone(), code: code.into(), times: Some(1), after: true });
    }

    /// Creates, updates and deletes so far, in the order they started.
    pub fn calls(&self) -> Vec<Call> {
        let mut calls = self.world().calls.clone();
        calls.sort_by_key(|c| c.start);
        calls
    }

    /// Every object at `address` (several when stacks share an address).
    pub fn objects_at(&self, address: &Address) -> Vec<Observed> {
        let w = self.world();
        w.objects.iter().filter(|o| located(o).as_ref() == Some(address)).map(Object::observed).collect()
    }

    /// The number of objects there are.
    pub fn len(&self) -> usize {
        self.world().objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs one call: logs it, waits the delay, applies a scripted failure, else `work`.
    async fn call<T>(&self, verb: Verb, address: &Address, work: impl FnOnce(&mut World) -> Result<T>) -> Result<T> {
        let start = self.world().tick();
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let mut w = self.world();
        let result = match w.fault(verb, address) {
            Some((code, false)) => Err(ApiError::new(&code, format!("scripted failure of {} {address}", verb.doing()))),
            Some((code, true)) => work(&mut w).and_then(|_| Err(ApiError::new(&code, format!("the answer to {} {address} was lost", verb.doing())))),
            None => work(&mut w),
        };
        let end = w.tick();
        w.calls.push(Call { verb, address: address.clone(), start, end, error: result.as_ref().err().map(|e| e.code.clone()) });
        result
    }
}

/// Where an object is: its address tag, or for a kind without tags where it was put.
fn located(o: &Object) -> Option<Address> {
    if schema(&o.address.kind).derived {
        return Some(o.address.clone());
    }
    o.attrs.get("tags")?.get(ADDRESS_TAG)?.as_str().and_then(Address::parse)
}

fn schema(kind: &str) -> Schema {
    let tagged = |replace_on| Schema::tagged("cidr").replace_on(replace_on);
    match kind {
        "net" => tagged(&["cidr"]),
        "sub" => tagged(&["cidr", "net_id"]),
        "assoc" => Schema::derived("gw_id").replace_on(&["sub_id"]).parent("sub_id"),
        _ => tagged(&[]),
    }
}

impl Provider for Memory {
    fn kinds(&self) -> &'static [&'static str] {
        KINDS
    }

    fn schema(&self, kind: &str) -> Schema {
        schema(kind)
    }

    fn listing_lag(&self) -> &'static [Duration] {
        self.lag
    }

    async fn refresh(&self, kind: &str, _: &Scope<'_>) -> Result<Found> {
        let mut w = self.world();
        let hidden: Vec<Address> = w.hidden.iter().filter(|(a, n)| a.kind == kind && *n > 0).map(|(a, _)| a.clone()).collect();
        for (_, n) in w.hidden.iter_mut().filter(|(a, _)| a.kind == kind) {
            *n = n.saturating_sub(1);
        }
        let of_kind = w.objects.iter().filter(|o| o.address.kind == kind);
        Ok(of_kind.filter_map(|o| Some((located(o)?, o.observed()))).filter(|(a, _)| !hidden.contains(a)).collect())
    }

    async fn create(&self, address: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
        self.call(Verb::Create, address, |w| {
            // Like EC2's client token: a retried create returns the object the first one made.
            if let Some(o) = w.objects.iter().find(|o| o.token.as_deref() == Some(token)) {
                return Ok(o.observed());
            }
            w.check(attrs)?;
            let id = w.new_id(&address.kind);
            w.objects.push(Object { id, address: address.clone(), attrs: attrs.clone(), token: Some(token.into()) });
            Ok(w.objects.last().expect("just pushed").observed())
        })
        .await
    }

    async fn update(&self, address: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
        self.call(Verb::Update, address, |w| {
            w.check(attrs)?;
            let o = w.objects.iter_mut().find(|o| o.id == current.id).ok_or_else(|| ApiError::new("NotFound", format!("{} does not exist", current.id)))?;
            o.attrs = attrs.clone();
            Ok(o.observed())
        })
        .await
    }

    async fn delete(&self, address: &Address, current: &Observed) -> Result<()> {
        self.call(Verb::Delete, address, |w| {
            if let Some(user) = w.objects.iter().find(|o| named(&o.attrs).any(|(_, id)| id == current.id)) {
                return Err(ApiError::new("DependencyViolation", format!("{} is used by {}", current.id, user.id)));
            }
            w.objects.retain(|o| o.id != current.id);
            Ok(())
        })
        .await
    }
}
