//! The engine against `memory::Memory`: what `eksnet apply` does (refresh, sync, plan,
//! execute), with the order of calls, the state writes, failures, adoption, ownership and
//! parallelism checked, in milliseconds. Orders are read from the call log's logical clock,
//! never from wall-clock thresholds. (There is no interrupt mechanism in the engine to test.)

use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use super::*;
use crate::memory::{Call, Memory};
use crate::ownership::{ADDRESS_TAG, Foreign, LINEAGE_TAG, Owner, STACK_TAG, mark};
use crate::plan::{Inputs, plan};
use crate::reporter::Silent;
use crate::state::StateFile;
use crate::value::reference;

const STACK: &str = "demo";
const LINEAGE: &str = "lineage-1";
/// Long enough for calls running together to overlap on the log's clock.
const DELAY: Duration = Duration::from_millis(2);

use Verb::{Create, Delete, Update};

fn addr(text: &str) -> Address {
    Address::parse(text).expect("an address")
}

fn object(v: Value) -> Attrs {
    v.as_object().expect("an object").clone()
}

/// A resource of the demo stack; tagged kinds carry the stack and address tags (`apply` adds
/// the lineage, as `eksnet apply` does).
fn want(address: &str, attrs: Value) -> Desired {
    let address = addr(address);
    let mut attrs = object(attrs);
    if !Memory::new().schema(&address.kind).derived {
        attrs.insert("tags".into(), json!({STACK_TAG: STACK, ADDRESS_TAG: address.to_string()}));
    }
    Desired::new(address, attrs, vec![])
}

fn id(address: &str) -> Value {
    reference(&addr(address), "id")
}

fn net(name: &str, cidr: &str) -> Desired {
    want(&format!("net.{name}"), json!({"cidr": cidr}))
}

fn sub(name: &str, net: &str, cidr: &str) -> Desired {
    want(&format!("sub.{name}"), json!({"cidr": cidr, "net_id": id(net)}))
}

fn gw(name: &str, net: &str) -> Desired {
    want(&format!("gw.{name}"), json!({"net_id": id(net)}))
}

fn assoc(name: &str, sub: &str, gw: &str) -> Desired {
    want(&format!("assoc.{name}"), json!({"sub_id": id(sub), "gw_id": id(gw)}))
}

/// net.a ← sub.a, gw.a ← assoc.a (sub.a, gw.a)
fn diamond() -> Vec<Desired> {
    vec![net("a", "10.0.0.0/16"), sub("a", "net.a", "10.0.1.0/24"), gw("a", "net.a"), assoc("a", "sub.a", "gw.a")]
}

/// A cloud, and a local state in a temporary directory.
struct Bench {
    cloud: Memory,
    store: Store,
    _dir: TempDir,
}

#[derive(Debug)]
struct Applied {
    plan: Plan,
    state: State,
    failures: Vec<Failure>,
    held: Vec<(Address, Verb)>,
}

impl Bench {
    fn new(cloud: Memory) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::Local(StateFile::new(dir.path().join("demo.state.json")));
        Bench { cloud, store, _dir: dir }
    }

    async fn saved(&self) -> State {
        self.store.load().await.expect("a readable state").expect("a state was written")
    }

    /// What `eksnet apply` does (app.rs): refresh, make the state say what exists, plan, execute.
    async fn try_apply(&self, desired: &[Desired], parallelism: usize, take_over: bool) -> Result<Applied, RefreshError> {
        let mut state = self.store.load().await.expect("a readable state").unwrap_or_else(|| State { lineage: LINEAGE.into(), ..State::new(STACK) });
        let mut desired = desired.to_vec();
        mark(&mut desired, &state.lineage);
        let owner = Owner { stack: STACK.into(), lineage: state.lineage.clone(), take_over };
        let observed = refresh(&self.cloud, &owner, Some(&state), &desired).await?;
        if sync(&mut state, &observed, &desired) {
            self.store.save(&mut state).await.expect("the state is written");
        }
        let plan = plan(&self.cloud, &Inputs { stack: STACK, desired: &desired, state: Some(&state), observed: &observed, destroy: false, replace: &[] });
        let run = Run { provider: &self.cloud, reporter: &Silent, store: &self.store, parallelism };
        let (state, outcomes) = run.execute(&plan, state, &observed).await;
        Ok(Applied { plan, state, failures: outcomes.failures, held: outcomes.held })
    }

    async fn apply(&self, desired: &[Desired], parallelism: usize) -> Applied {
        self.try_apply(desired, parallelism, false).await.expect("the refresh succeeds")
    }
}

impl Applied {
    fn action(&self, address: &str) -> Action {
        self.plan.changes.iter().find(|c| c.address == addr(address)).map(|c| c.action).expect("in the plan")
    }

    /// (address, verb, error code), sorted.
    fn failures(&self) -> Vec<(String, Verb, String)> {
        let mut out: Vec<_> = self
            .failures
            .iter()
            .map(|f| {
                let code = match &f.error {
                    StepError::Cloud(e) => e.code.clone(),
                    other => other.to_string(),
                };
                (f.address.to_string(), f.verb, code)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// The one call of `verb` on `address`.
fn call(calls: &[Call], verb: Verb, address: &str) -> Call {
    let found: Vec<&Call> = calls.iter().filter(|c| c.verb == verb && c.address == addr(address)).collect();
    assert_eq!(found.len(), 1, "one {verb:?} of {address} in {calls:#?}");
    found[0].clone()
}

fn assert_before(calls: &[Call], first: (Verb, &str), then: (Verb, &str)) {
    let (a, b) = (call(calls, first.0, first.1), call(calls, then.0, then.1));
    assert!(a.end < b.start, "{first:?} must end before {then:?} starts: {calls:#?}");
}

fn touched(calls: &[Call], address: &str) -> bool {
    calls.iter().any(|c| c.address == addr(address))
}

/// A run right after a crash: the listing leaves out an object made seconds ago. With the
/// provider's listing lag, refresh reads the kind again and finds it; without, it would be made
/// a second time.
#[tokio::test]
async fn an_object_a_listing_leaves_out_is_read_again_before_it_counts_as_gone() {
    const LAG: &[Duration] = &[Duration::from_millis(1), Duration::from_millis(1), Duration::from_millis(1)];
    let bench = Bench::new(Memory::new().lagging(LAG));
    bench.apply(&diamond(), 4).await;
    bench.cloud.hide(&addr("sub.a"), 2);
    let again = bench.apply(&diamond(), 4).await;
    assert_eq!(again.action("sub.a"), Action::NoOp, "sub.a was taken for gone");
    assert_eq!(bench.cloud.objects_at(&addr("sub.a")).len(), 1);

    // Without a lag (a consistent provider), one read decides: the hidden object counts as gone.
    let bench = Bench::new(Memory::new());
    bench.apply(&diamond(), 4).await;
    bench.cloud.hide(&addr("sub.a"), 1);
    let again = bench.apply(&diamond(), 4).await;
    assert_eq!(again.action("sub.a"), Action::Create);
}

#[tokio::test]
async fn creates_run_after_what_they_reference_and_independent_ones_together() {
    let bench = Bench::new(Memory::new().delay(DELAY));
    let applied = bench.apply(&diamond(), 8).await;
    assert!(applied.failures.is_empty(), "{:?}", applied.failures);
    let calls = bench.cloud.calls();
    assert_eq!(calls.len(), 4);
    assert_before(&calls, (Create, "net.a"), (Create, "sub.a"));
    assert_before(&calls, (Create, "net.a"), (Create, "gw.a"));
    assert_before(&calls, (Create, "sub.a"), (Create, "assoc.a"));
    assert_before(&calls, (Create, "gw.a"), (Create, "assoc.a"));
    assert!(call(&calls, Create, "sub.a").overlaps(&call(&calls, Create, "gw.a")), "{calls:#?}");
    let state = bench.saved().await;
    assert!(state.resources.values().all(|r| r.id.is_some()));
    assert_eq!(state.resources[&addr("assoc.a")].deps, vec![addr("sub.a"), addr("gw.a")]);
}

#[tokio::test]
async fn deletes_run_before_what_they_depended_on() {
    let bench = Bench::new(Memory::new().delay(DELAY));
    bench.apply(&diamond(), 8).await;
    let applied = bench.apply(&[], 8).await;
    assert!(applied.failures.is_empty(), "{:?}", applied.failures);
    assert!(applied.plan.changes.iter().all(|c| c.action == Action::Delete));
    let calls = &bench.cloud.calls()[4..];
    assert_before(calls, (Delete, "assoc.a"), (Delete, "sub.a"));
    assert_before(calls, (Delete, "assoc.a"), (Delete, "gw.a"));
    assert_before(calls, (Delete, "sub.a"), (Delete, "net.a"));
    assert_before(calls, (Delete, "gw.a"), (Delete, "net.a"));
    assert!(bench.cloud.is_empty());
    assert!(bench.saved().await.resources.is_empty());
}

/// A tag value equal to another object's id is not a reference. (A cluster named like its
/// stack has the stack's name as its id, which every object's `eksnet:stack` tag carries: read
/// as references, those made a circle and the destroy never reached the cluster, yet said it was
/// complete.)
#[tokio::test]
async fn a_tag_naming_an_id_is_not_a_dependency_and_the_destroy_reaches_everything() {
    let bench = Bench::new(Memory::new());
    let first = bench.apply(&diamond(), 8).await;
    let sub_id = first.state.resources[&addr("sub.a")].id.clone().unwrap();
    let mut stack = diamond();
    stack[0].attrs["tags"]["note"] = json!(sub_id);
    let tagged = bench.apply(&stack, 8).await;
    assert!(tagged.failures.is_empty(), "{:?}", tagged.failures);
    let destroyed = bench.apply(&[], 8).await;
    assert!(destroyed.failures.is_empty(), "{:?}", destroyed.failures());
    assert!(bench.cloud.is_empty(), "the destroy left objects behind");
    assert!(bench.saved().await.resources.is_empty());
}

#[tokio::test]
async fn a_replace_deletes_the_old_object_then_creates_the_new_one() {
    let bench = Bench::new(Memory::new().delay(DELAY));
    bench.apply(&diamond(), 8).await;
    let mut stack = diamond();
    stack[1] = sub("a", "net.a", "10.0.2.0/24");
    let applied = bench.apply(&stack, 8).await;
    assert!(applied.failures.is_empty(), "{:?}", applied.failures);
    assert_eq!(applied.action("sub.a"), Action::Replace);
    assert_eq!(applied.action("assoc.a"), Action::Replace, "its subnet is new");
    let calls = &bench.cloud.calls()[4..];
    assert_eq!(calls.len(), 4, "{calls:#?}");
    assert_before(calls, (Delete, "assoc.a"), (Delete, "sub.a"));
    assert_before(calls, (Delete, "sub.a"), (Create, "sub.a"));
    assert_before(calls, (Create, "sub.a"), (Create, "assoc.a"));
    let new_sub = &bench.cloud.objects_at(&addr("sub.a"))[0];
    assert_eq!(new_sub.attrs["cidr"], "10.0.2.0/24");
    assert_eq!(bench.cloud.objects_at(&addr("assoc.a"))[0].attrs["sub_id"], json!(new_sub.id));
}

#[tokio::test]
async fn an_update_that_stops_pointing_at_an_object_runs_before_its_delete() {
    let bench = Bench::new(Memory::new().delay(DELAY));
    let before = [net("a", "10.0.0.0/16"), sub("a", "net.a", "10.0.1.0/24"), gw("old", "net.a"), assoc("a", "sub.a", "gw.old")];
    bench.apply(&before, 8).await;
    let after = [net("a", "10.0.0.0/16"), sub("a", "net.a", "10.0.1.0/24"), gw("new", "net.a"), assoc("a", "sub.a", "gw.new")];
    let applied = bench.apply(&after, 8).await;
    assert!(applied.failures.is_empty(), "{:?}", applied.failures);
    assert_eq!((applied.action("gw.new"), applied.action("assoc.a"), applied.action("gw.old")), (Action::Create, Action::Update, Action::Delete));
    let calls = &bench.cloud.calls()[4..];
    assert_before(calls, (Create, "gw.new"), (Update, "assoc.a"));
    assert_before(calls, (Update, "assoc.a"), (Delete, "gw.old"));
    let gw = &bench.cloud.objects_at(&addr("gw.new"))[0];
    assert_eq!(bench.cloud.objects_at(&addr("assoc.a"))[0].attrs["gw_id"], json!(gw.id));
}

#[tokio::test]
async fn an_object_that_stays_lets_go_of_a_replaced_one_before_its_delete() {
    // gw.a lists both subnets (as a cluster lists its subnets); sub.b moves to a new CIDR.
    let gw_over = |subs: &[&str]| want("gw.a", json!({"net_id": id("net.a"), "sub_ids": subs.iter().map(|s| id(s)).collect::<Vec<_>>()}));
    let stack = |b: &str| vec![net("a", "10.0.0.0/16"), sub("a", "net.a", "10.0.1.0/24"), sub("b", "net.a", b), gw_over(&["sub.a", "sub.b"])];
    let bench = Bench::new(Memory::new().delay(DELAY));
    bench.apply(&stack("10.0.2.0/24"), 8).await;
    let (old_a, old_b) = (bench.cloud.objects_at(&addr("sub.a"))[0].id.clone(), bench.cloud.objects_at(&addr("sub.b"))[0].id.clone());
    let applied = bench.apply(&stack("10.0.3.0/24"), 8).await;
    assert!(applied.failures.is_empty(), "the old subnet is still named when deleted: {:?}", applied.failures);
    assert_eq!((applied.action("sub.b"), applied.action("gw.a")), (Action::Replace, Action::Update));
    let calls = &bench.cloud.calls()[4..];
    let updates: Vec<&Call> = calls.iter().filter(|c| c.verb == Update && c.address == addr("gw.a")).collect();
    assert_eq!(updates.len(), 2, "a detach, then the update: {calls:#?}");
    let (delete, create) = (call(calls, Delete, "sub.b"), call(calls, Create, "sub.b"));
    assert!(updates[0].end < delete.start && create.end < updates[1].start, "{calls:#?}");
    let new_b = &bench.cloud.objects_at(&addr("sub.b"))[0];
    assert_ne!(new_b.id, old_b);
    assert_eq!(bench.cloud.objects_at(&addr("gw.a"))[0].attrs["sub_ids"], json!([old_a, new_b.id]));
    assert_eq!(applied.state.resources[&addr("gw.a")].attrs["sub_ids"], json!([old_a, new_b.id]), "the state follows both updates");
}

#[tokio::test]
async fn after_a_failure_no_delete_starts_and_the_next_run_does_it() {
    let bench = Bench::new(Memory::new().delay(DELAY));
    let before = [net("a", "10.0.0.0/16"), sub("a", "net.a", "10.0.1.0/24"), gw("old", "net.a"), assoc("a", "sub.a", "gw.old")];
    bench.apply(&before, 8).await;
    // The new gateway is made and the association moved to it; a create elsewhere fails, so
    // the old gateway's delete (ready only after the association moved) is not started.
    bench.cloud.fail(Create, &addr("net.x"), "VpcLimitExceeded", Some(1));
    let after = [net("a", "10.0.0.0/16"), sub("a", "net.a", "10.0.1.0/24"), gw("new", "net.a"), assoc("a", "sub.a", "gw.new"), net("x", "10.9.0.0/16")];
    let applied = bench.apply(&after, 8).await;
    assert_eq!(applied.failures(), vec![("net.x".into(), Create, "VpcLimitExceeded".into())]);
    assert_eq!(applied.held, vec![(addr("gw.old"), Delete)]);
    assert_eq!(bench.cloud.objects_at(&addr("gw.old")).len(), 1, "the old gateway is still there");
    assert!(!touched(&bench.cloud.calls()[4..], "gw.old"));
    // The next run finishes the job.
    let again = bench.apply(&after, 8).await;
    assert!(again.failures.is_empty() && again.held.is_empty(), "{:?} {:?}", again.failures, again.held);
    assert!(bench.cloud.objects_at(&addr("gw.old")).is_empty());
}

#[tokio::test]
async fn deletes_wait_for_the_creates_that_do_not_need_them_so_a_failed_create_takes_nothing_down() {
    // A typo in a zone: the old zone's subnet and its association go, a new zone's subnet comes;
    // the new subnet's create fails. Nothing is deleted, whatever the parallelism.
    let bench = Bench::new(Memory::new().delay(DELAY));
    let before = [net("a", "10.0.0.0/16"), sub("old", "net.a", "10.0.1.0/24"), gw("g", "net.a"), assoc("old", "sub.old", "gw.g")];
    bench.apply(&before, 8).await;
    bench.cloud.fail(Create, &addr("sub.new"), "InvalidParameterValue", None);
    let after = [net("a", "10.0.0.0/16"), sub("new", "net.a", "10.0.2.0/24"), gw("g", "net.a"), assoc("new", "sub.new", "gw.g")];
    let applied = bench.apply(&after, 8).await;
    assert_eq!(applied.failures(), vec![("sub.new".into(), Create, "InvalidParameterValue".into())]);
    assert_eq!(applied.held, vec![(addr("assoc.old"), Delete), (addr("sub.old"), Delete)]);
    assert!(!bench.cloud.calls()[4..].iter().any(|c| c.verb == Delete), "nothing was deleted: {:#?}", bench.cloud.calls());
}

#[tokio::test]
async fn the_state_is_written_after_every_step_with_the_intent_before_a_create() {
    let bench = Bench::new(Memory::new());
    bench.cloud.fail(Create, &addr("sub.b"), "InternalError", Some(1));
    let stack = [net("a", "10.0.0.0/16"), sub("a", "net.a", "10.0.1.0/24"), sub("b", "net.a", "10.0.2.0/24")];
    let applied = bench.apply(&stack, 4).await;
    assert_eq!(applied.failures(), vec![("sub.b".into(), Create, "InternalError".into())]);
    // Two writes per create (the intent, then the object); the failed one wrote its intent.
    let state = bench.saved().await;
    assert_eq!((state.serial, applied.state.serial), (5, 5));
    let intent = &state.resources[&addr("sub.b")];
    assert_eq!((intent.id.as_deref(), intent.deps.as_slice()), (None, [addr("net.a")].as_slice()));
    assert!(!intent.token.is_empty());
    assert_eq!(state.resources[&addr("sub.a")].id, Some(bench.cloud.objects_at(&addr("sub.a"))[0].id.clone()));
    // The next run finds nothing at sub.b, forgets the intent and creates it.
    let again = bench.apply(&stack, 4).await;
    assert!(again.failures.is_empty(), "{:?}", again.failures);
    assert_eq!(again.action("sub.b"), Action::Create);
    assert!(bench.saved().await.resources[&addr("sub.b")].id.is_some());
}

#[tokio::test]
async fn a_failure_skips_its_dependents_and_every_root_failure_is_reported() {
    let bench = Bench::new(Memory::new());
    bench.cloud.fail(Create, &addr("net.a"), "VpcLimitExceeded", None);
    bench.cloud.fail(Create, &addr("gw.b"), "InternalError", None);
    let stack = [
        net("a", "10.0.0.0/16"),
        sub("a", "net.a", "10.0.1.0/24"),
        net("b", "10.1.0.0/16"),
        sub("b", "net.b", "10.1.1.0/24"),
        gw("b", "net.b"),
        assoc("b", "sub.b", "gw.b"),
    ];
    let applied = bench.apply(&stack, 4).await;
    assert_eq!(applied.failures(), vec![("gw.b".into(), Create, "InternalError".into()), ("net.a".into(), Create, "VpcLimitExceeded".into())]);
    let calls = bench.cloud.calls();
    assert!(!touched(&calls, "sub.a") && !touched(&calls, "assoc.b"), "dependents of a failure never run: {calls:#?}");
    assert!(call(&calls, Create, "sub.b").error.is_none());
    let state = bench.saved().await;
    assert!(state.resources[&addr("sub.b")].id.is_some());
    assert!(!state.resources.contains_key(&addr("sub.a")));
}

#[tokio::test]
async fn an_object_whose_create_answer_was_lost_is_adopted_not_created_twice() {
    let bench = Bench::new(Memory::new());
    bench.cloud.lose_answer(&addr("net.a"), "RequestTimeout");
    let stack = [net("a", "10.0.0.0/16"), sub("a", "net.a", "10.0.1.0/24")];
    let first = bench.apply(&stack, 4).await;
    assert_eq!(first.failures(), vec![("net.a".into(), Create, "RequestTimeout".into())]);
    let intent = bench.saved().await.resources[&addr("net.a")].clone();
    assert_eq!(intent.id, None);
    let made = bench.cloud.objects_at(&addr("net.a"));
    assert_eq!(made.len(), 1, "the create went through all the same");

    let second = bench.apply(&stack, 4).await;
    assert!(second.failures.is_empty(), "{:?}", second.failures);
    assert_eq!((second.action("net.a"), second.action("sub.a")), (Action::NoOp, Action::Create));
    let record = &second.state.resources[&addr("net.a")];
    assert_eq!((record.id.as_deref(), &record.token), (Some(made[0].id.as_str()), &intent.token));
    assert_eq!(bench.cloud.calls().iter().filter(|c| c.verb == Create && c.address == addr("net.a")).count(), 1);
    assert_eq!(bench.cloud.objects_at(&addr("net.a")).len(), 1);
}

#[tokio::test]
async fn another_stacks_object_at_the_same_address_is_never_touched() {
    let bench = Bench::new(Memory::new());
    let tags = json!({STACK_TAG: "other", ADDRESS_TAG: "net.a", LINEAGE_TAG: "lineage-9"});
    let theirs = bench.cloud.seed(&addr("net.a"), object(json!({"cidr": "10.9.0.0/16", "tags": tags})));
    let applied = bench.apply(&[net("a", "10.0.0.0/16")], 4).await;
    assert_eq!(applied.action("net.a"), Action::Create);
    bench.apply(&[], 4).await;
    let calls = bench.cloud.calls();
    assert_eq!(calls.iter().map(|c| c.verb).collect::<Vec<_>>(), vec![Create, Delete]);
    let left = bench.cloud.objects_at(&addr("net.a"));
    assert_eq!((left.len(), left[0].id.as_str(), &left[0].attrs["cidr"]), (1, theirs.as_str(), &json!("10.9.0.0/16")));
}

#[tokio::test]
async fn another_states_object_stops_the_refresh_until_taken_over() {
    let bench = Bench::new(Memory::new());
    let tags = json!({STACK_TAG: STACK, ADDRESS_TAG: "net.a", LINEAGE_TAG: "lineage-2"});
    let theirs = bench.cloud.seed(&addr("net.a"), object(json!({"cidr": "10.0.0.0/16", "tags": tags})));
    let stack = [net("a", "10.0.0.0/16")];
    match bench.try_apply(&stack, 4, false).await {
        Err(RefreshError::OwnedElsewhere(foreign)) => {
            assert_eq!(foreign, vec![Foreign { address: addr("net.a"), id: theirs.clone(), lineage: "lineage-2".into() }]);
        }
        other => panic!("expected OwnedElsewhere, got {other:?}"),
    }
    assert!(bench.cloud.calls().is_empty());

    let applied = bench.try_apply(&stack, 4, true).await.expect("taken over");
    assert_eq!(applied.action("net.a"), Action::Update, "only the lineage tag changes");
    assert_eq!(bench.cloud.calls().iter().map(|c| c.verb).collect::<Vec<_>>(), vec![Update]);
    let taken = &bench.cloud.objects_at(&addr("net.a"))[0];
    assert_eq!((taken.id.as_str(), &taken.attrs["tags"][LINEAGE_TAG]), (theirs.as_str(), &json!(LINEAGE)));
    assert_eq!(bench.saved().await.resources[&addr("net.a")].id.as_deref(), Some(theirs.as_str()));
}

#[tokio::test]
async fn parallelism_bounds_how_many_calls_run_at_once() {
    let nets = [net("a", "10.0.0.0/16"), net("b", "10.1.0.0/16"), net("c", "10.2.0.0/16")];
    let (one, three) = (Bench::new(Memory::new().delay(DELAY)), Bench::new(Memory::new().delay(DELAY)));
    tokio::join!(one.apply(&nets, 1), three.apply(&nets, 3));
    let pairs = |calls: &[Call]| -> Vec<bool> { vec![calls[0].overlaps(&calls[1]), calls[0].overlaps(&calls[2]), calls[1].overlaps(&calls[2])] };
    let (serial, parallel) = (one.cloud.calls(), three.cloud.calls());
    assert_eq!((serial.len(), parallel.len()), (3, 3));
    assert_eq!(pairs(&serial), vec![false; 3], "{serial:#?}");
    assert_eq!(pairs(&parallel), vec![true; 3], "{parallel:#?}");
}
