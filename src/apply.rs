//! Refresh, state sync and plan execution against any `Provider`: the engine's middle layer,
//! between the generic executor and the commands.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use futures::future::join_all;
use tokio::sync::Mutex;

use crate::address::Address;
use crate::backend::Store;
use crate::executor::{Outcome, walk};
use crate::ownership::{Foreign, Owner, Verdict};
use crate::plan::{Action, Plan};
use crate::progress;
use crate::provider::{ApiError, Desired, Observed, Provider, Scope};
use crate::reporter::{Reporter, Verb};
use crate::state::{Record, State};
use crate::value::{Attrs, resolve_attrs};

/// Why a refresh could not tell what exists.
#[derive(Debug)]
pub enum RefreshError {
    /// Reads that failed, per kind.
    Reads(Vec<(String, ApiError)>),
    /// The stack's objects are managed by another state (see `ownership`).
    OwnedElsewhere(Vec<Foreign>),
}

/// Reads every kind once (tagged kinds together, then the kinds found through them), and keeps
/// only what `owner` owns: whatever a read returns, an object of another stack is dropped here,
/// and one of another state stops the refresh (`ownership`).
pub async fn refresh<P: Provider>(
    provider: &P,
    owner: &Owner,
    state: Option<&State>,
    desired: &[Desired],
) -> Result<BTreeMap<Address, Observed>, RefreshError> {
    let mut observed = BTreeMap::new();
    let mut failures = vec![];
    let mut foreign = vec![];
    let mut ids: HashMap<String, Address> =
        state.map(|s| s.resources.iter().filter_map(|(a, r)| Some((r.id.clone()?, a.clone()))).collect()).unwrap_or_default();
    let mut known: HashMap<Address, Attrs> = state.map(|s| s.resources.iter().map(|(a, r)| (a.clone(), r.attrs.clone())).collect()).unwrap_or_default();
    known.extend(desired.iter().map(|d| (d.address.clone(), d.attrs.clone())));
    let mut outputs: HashMap<Address, Attrs> = HashMap::new();
    let all: Vec<&str> = provider.kinds().to_vec();
    read_kinds(provider, owner, &all, &known, &mut ids, &mut outputs, &mut observed, &mut failures, &mut foreign).await;
    // A listing may leave out what was made seconds ago (`Provider::listing_lag`): an object the
    // state records is read again before it counts as gone, so that a run right after a crash
    // does not make it a second time.
    for pause in provider.listing_lag() {
        let Some(state) = state else { break };
        let mut missing: Vec<&str> = state.resources.keys().filter(|a| !observed.contains_key(*a)).map(|a| a.kind.as_str()).collect();
        missing.sort();
        missing.dedup();
        if missing.is_empty() || !failures.is_empty() || !foreign.is_empty() {
            break;
        }
        tokio::time::sleep(*pause).await;
        read_kinds(provider, owner, &missing, &known, &mut ids, &mut outputs, &mut observed, &mut failures, &mut foreign).await;
    }
    if !foreign.is_empty() {
        return Err(RefreshError::OwnedElsewhere(foreign));
    }
    if failures.is_empty() { Ok(observed) } else { Err(RefreshError::Reads(failures)) }
}

/// Reads `kinds` (tagged kinds together, then the kinds found through them) into `observed`,
/// keeping what `owner` owns.
#[allow(clippy::too_many_arguments)]
async fn read_kinds<P: Provider>(
    provider: &P,
    owner: &Owner,
    kinds: &[&str],
    known: &HashMap<Address, Attrs>,
    ids: &mut HashMap<String, Address>,
    outputs: &mut HashMap<Address, Attrs>,
    observed: &mut BTreeMap<Address, Observed>,
    failures: &mut Vec<(String, ApiError)>,
    foreign: &mut Vec<Foreign>,
) {
    for derived in [false, true] {
        let kinds: Vec<&str> = kinds.iter().copied().filter(|k| provider.schema(k).derived == derived).collect();
        let scope = Scope { ids, outputs, known };
        let results = join_all(kinds.iter().map(|k| provider.refresh(k, &scope))).await;
        for (kind, result) in kinds.iter().zip(results) {
            match result {
                Ok(found) => {
                    let schema = provider.schema(kind);
                    for (address, o) in found {
                        match owner.judge(&schema, &o, |id| ids.contains_key(id)) {
                            Verdict::Ours => {
                                observed.insert(address, o);
                            }
                            Verdict::NotOurs => {}
                            Verdict::OtherState(lineage) => foreign.push(Foreign { address, id: o.id, lineage }),
                        }
                    }
                }
                Err(e) => failures.push((kind.to_string(), e)),
            }
        }
        ids.extend(observed.iter().map(|(a, o)| (o.id.clone(), a.clone())));
        outputs.extend(observed.iter().map(|(a, o)| (a.clone(), o.outputs.clone())));
    }
}

/// Makes the state say what refresh saw: adopts objects found by tag (created just before a
/// crash), updates attributes, and forgets what no longer exists. Returns whether it changed.
pub fn sync(state: &mut State, observed: &BTreeMap<Address, Observed>, desired: &[Desired]) -> bool {
    let before = state.resources.clone();
    state.resources.retain(|a, _| observed.contains_key(a));
    for (address, o) in observed {
        let deps = desired.iter().find(|d| &d.address == address).map(|d| d.deps.clone());
        let record = state.resources.entry(address.clone()).or_insert_with(|| Record {
            id: None,
            token: new_token(),
            attrs: Default::default(),
            outputs: Default::default(),
            deps: vec![],
        });
        record.id = Some(o.id.clone());
        record.attrs = o.attrs.clone();
        record.outputs = o.outputs.clone();
        if let Some(deps) = deps {
            record.deps = deps;
        }
    }
    state.resources != before
}

fn new_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Why one step of a run failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The cloud refused or failed the call.
    #[error("{0}")]
    Cloud(#[from] ApiError),
    /// The change was made but the state could not record it: the next refresh adopts it.
    #[error("the state could not be written: {0}")]
    StateWrite(String),
    /// A saved plan changes an address it has no desired attributes for (a damaged plan file).
    #[error("{0} is not in the plan's desired resources")]
    NotInPlan(Address),
    /// The step never became ready: the steps' dependencies form a circle (a defect in eksnet).
    #[error("never started: the steps it waits for wait on it (a circle among the steps' dependencies; please report it)")]
    Unreached,
}

/// One failed step, for the final report.
#[derive(Debug)]
pub struct Failure {
    pub address: Address,
    pub verb: Verb,
    pub error: StepError,
}

/// What did not go as planned in a run.
#[derive(Debug, Default)]
pub struct Outcomes {
    /// Steps that failed: the root causes.
    pub failures: Vec<Failure>,
    /// Destructive steps not started because a step had failed; the next run does them.
    pub held: Vec<(Address, Verb)>,
    pub done: usize,
    /// Steps not started because the run was interrupted.
    pub not_started: usize,
}

impl Outcomes {
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.held.is_empty() && self.not_started == 0
    }

    /// Steps an interrupt ended while AWS goes on with them (recorded; the next run waits).
    pub fn converging(&self) -> usize {
        self.failures
            .iter()
            .filter(
                |f| matches!(&f.error, StepError::Cloud(e) if e.code == crate::interrupt::INTERRUPTED || e.message.ends_with("(interrupted while retrying)")),
            )
            .count()
    }
}

struct Step {
    address: Address,
    verb: Verb,
    /// For an update that runs before replacements (a detach): the replaced objects whose
    /// current ids are taken out of the object's lists first (see `schedule`).
    detach: Vec<Address>,
}

/// Orders the plan's changes into steps with their dependencies (see docs/architecture.md):
/// creates and updates after what they reference; deletes before what they depended on;
/// a replace deletes first, then creates. And deletes go last: each delete also waits for every
/// create and update that does not need it gone first, so that a create that fails (a zone that
/// does not exist, a CIDR taken) is known before anything is taken down, and the executor then
/// holds every delete (`walk`'s `destructive`).
///
/// An object that stays and is updated in place while something it lists is replaced (the
/// cluster whose `subnet_ids` name a replaced subnet) is first *detached*: updated with the old
/// object's id taken out of its lists, before the old object is deleted. Otherwise the delete
/// meets what the staying object keeps there (EKS control-plane ENIs in the old subnet: "EKS
/// creates 2 to 4 cross-account elastic network interfaces (ENIs) in those subnets", eksctl
/// guide, "Updating control plane subnets and security groups"; UpdateClusterConfig moves them)
/// and the update that would move it needs the new object, which comes after the delete.
fn schedule(plan: &Plan) -> (Vec<Step>, Vec<Vec<usize>>) {
    let mut steps = vec![];
    let mut index: HashMap<(Address, bool), usize> = HashMap::new(); // (address, is_delete)
    let replaced: Vec<&Address> = plan.changes.iter().filter(|c| c.action == Action::Replace).map(|c| &c.address).collect();
    let mut detaches: Vec<(usize, Vec<Address>)> = vec![];
    for c in &plan.changes {
        let held: Vec<Address> = replaced.iter().filter(|r| c.existing_deps.contains(r)).map(|r| (*r).clone()).collect();
        if c.action == Action::Update && !held.is_empty() {
            detaches.push((steps.len(), held.clone()));
            steps.push(Step { address: c.address.clone(), verb: Verb::Update, detach: held });
        }
        let mut push = |verb: Verb| {
            index.insert((c.address.clone(), verb == Verb::Delete), steps.len());
            steps.push(Step { address: c.address.clone(), verb, detach: vec![] });
        };
        match c.action {
            Action::Create => push(Verb::Create),
            Action::Update => push(Verb::Update),
            Action::Replace => {
                push(Verb::Delete);
                push(Verb::Create);
            }
            Action::Delete => push(Verb::Delete),
            Action::NoOp => {}
        }
    }
    let desired: HashMap<&Address, &Desired> = plan.desired.iter().map(|d| (&d.address, d)).collect();
    let action: HashMap<&Address, Action> = plan.changes.iter().map(|c| (&c.address, c.action)).collect();
    let mut deps = vec![vec![]; steps.len()];
    for (i, step) in steps.iter().enumerate() {
        let mut add = |key: (Address, bool)| {
            if let Some(&j) = index.get(&key)
                && j != i
                && !deps[i].contains(&j)
            {
                deps[i].push(j);
            }
        };
        if !step.detach.is_empty() {
            // A detach waits for nothing; the replaced objects' deletes and the object's own
            // update wait for it (below).
            continue;
        }
        if step.verb == Verb::Delete {
            for c in plan.changes.iter().filter(|c| c.existing_deps.contains(&step.address)) {
                add((c.address.clone(), true));
                // Something that stays but stops pointing here must be updated first.
                if action[&step.address] == Action::Delete {
                    add((c.address.clone(), false));
                }
            }
        } else {
            for dep in desired.get(&step.address).map(|d| d.deps.as_slice()).unwrap_or_default() {
                add((dep.clone(), false));
            }
            add((step.address.clone(), true));
        }
    }
    for (d, held) in detaches {
        if let Some(&update) = index.get(&(steps[d].address.clone(), false)) {
            deps[update].push(d);
        }
        for old in &held {
            if let Some(&delete) = index.get(&(old.clone(), true)) {
                deps[delete].push(d);
            }
        }
    }
    deletes_last(&steps, &mut deps);
    (steps, deps)
}

/// Makes every delete wait for the creates and updates that do not depend on it (transitively,
/// in the graph as it grows, so no edge added here can close a circle).
fn deletes_last(steps: &[Step], deps: &mut [Vec<usize>]) {
    let depends_on = |deps: &[Vec<usize>], from: usize, on: usize| {
        let mut seen = vec![false; deps.len()];
        let mut stack = vec![from];
        while let Some(i) = stack.pop() {
            if i == on {
                return true;
            }
            for &j in &deps[i] {
                if !std::mem::replace(&mut seen[j], true) {
                    stack.push(j);
                }
            }
        }
        false
    };
    for d in (0..steps.len()).filter(|&i| steps[i].verb == Verb::Delete) {
        for c in (0..steps.len()).filter(|&i| steps[i].verb != Verb::Delete) {
            if !deps[d].contains(&c) && !depends_on(deps, c, d) {
                deps[d].push(c);
            }
        }
    }
}

pub struct Run<'a, P: Provider> {
    pub provider: &'a P,
    pub reporter: &'a dyn Reporter,
    pub store: &'a Store,
    pub parallelism: usize,
}

impl<P: Provider> Run<'_, P> {
    /// Executes the plan's changes, writing the state after every step. Once a step has failed,
    /// no delete starts (nor the delete half of a replacement): a failed run stops taking things
    /// down. Returns the state and what did not go as planned (dependents of a failure are
    /// skipped, not reported).
    pub async fn execute(&self, plan: &Plan, state: State, observed: &BTreeMap<Address, Observed>) -> (State, Outcomes) {
        let (steps, deps) = schedule(plan);
        self.reporter.planned(&steps.iter().map(|s| (s.address.clone(), s.verb)).collect::<Vec<_>>());
        let state = Mutex::new(state);
        let desired: HashMap<&Address, &Desired> = plan.desired.iter().map(|d| (&d.address, d)).collect();
        let (sink, mut said) = tokio::sync::mpsc::unbounded_channel::<(usize, String)>();
        let (all, state_ref, desired_ref) = (&steps, &state, &desired);
        // The walk owns the sender: when it is done, the channel closes and the report ends.
        let stop = || crate::interrupt::requested().is_some();
        let run = walk(
            &deps,
            self.parallelism,
            |i| steps[i].verb == Verb::Delete,
            stop,
            move |i| {
                let step = &all[i];
                let (state, desired, sink) = (state_ref, desired_ref, sink.clone());
                async move {
                    self.reporter.started(&step.address, step.verb);
                    let start = Instant::now();
                    let result = progress::scope(i, sink, self.step(step, state, desired.get(&step.address).copied(), observed)).await;
                    let shown = result.as_ref().map(String::as_str).map_err(ToString::to_string);
                    self.reporter.finished(&step.address, step.verb, shown.as_deref().map_err(String::as_str), start.elapsed());
                    result.map(|_| ())
                }
            },
        );
        // What running steps say goes to the reporter while the walk goes on.
        let report = async {
            while let Some((i, message)) = said.recv().await {
                self.reporter.progress(&steps[i].address, steps[i].verb, &message);
            }
        };
        let (outcomes, ()) = tokio::join!(run, report);
        let mut report = Outcomes::default();
        for (outcome, step) in outcomes.into_iter().zip(&steps) {
            match outcome {
                Outcome::Failed(error) => report.failures.push(Failure { address: step.address.clone(), verb: step.verb, error }),
                Outcome::Held => report.held.push((step.address.clone(), step.verb)),
                Outcome::NotStarted => report.not_started += 1,
                Outcome::Done => report.done += 1,
                Outcome::Skipped => {}
                Outcome::Unreached => report.failures.push(Failure { address: step.address.clone(), verb: step.verb, error: StepError::Unreached }),
            }
        }
        (state.into_inner(), report)
    }

    /// Changes the state and writes it; writes are serialized by the state's mutex.
    async fn save(&self, state: &Mutex<State>, change: impl FnOnce(&mut State)) -> Result<(), StepError> {
        let mut state = state.lock().await;
        change(&mut state);
        self.store.save(&mut state).await.map_err(|e| StepError::StateWrite(format!("{e:#}")))
    }

    /// A detach (see `schedule`): the object updated with the ids of the replaced objects taken
    /// out of its lists, before those objects are deleted. Nothing to take out (the object
    /// no longer lists them) is done at once; a list that would be left empty is left to the
    /// cloud's own error, which holds the deletes.
    async fn detach(&self, address: &Address, held: &[Address], state: &Mutex<State>) -> Result<String, StepError> {
        let (current, old) = {
            let s = state.lock().await;
            let old: Vec<serde_json::Value> = held.iter().filter_map(|a| s.resources.get(a)?.id.clone()).map(serde_json::Value::String).collect();
            (s.resources.get(address).and_then(Record::observed), old)
        };
        let Some(current) = current else { return Ok(String::new()) };
        let mut attrs = current.attrs.clone();
        let mut changed = false;
        for value in attrs.values_mut() {
            if let serde_json::Value::Array(items) = value {
                let before = items.len();
                items.retain(|v| !old.contains(v));
                changed |= items.len() != before;
            }
        }
        if !changed {
            return Ok(current.id);
        }
        self.provider.normalize(&address.kind, &mut attrs);
        let updated = self.provider.update(address, &current, &attrs).await?;
        let id = updated.id.clone();
        self.save(state, |s| {
            // The record keeps its token and what it depended on: only the lists changed.
            if let Some(record) = s.resources.get_mut(address) {
                (record.id, record.attrs, record.outputs) = (Some(updated.id), updated.attrs, updated.outputs);
            }
        })
        .await?;
        Ok(id)
    }

    /// Runs one step; returns the object's id for the progress line.
    async fn step(&self, step: &Step, state: &Mutex<State>, desired: Option<&Desired>, observed: &BTreeMap<Address, Observed>) -> Result<String, StepError> {
        let address = &step.address;
        if !step.detach.is_empty() {
            return self.detach(address, &step.detach, state).await;
        }
        match step.verb {
            Verb::Delete => {
                let current = state.lock().await.resources.get(address).and_then(Record::observed).or_else(|| observed.get(address).cloned());
                if let Some(current) = current {
                    self.provider.delete(address, &current).await?;
                }
                self.save(state, |s| {
                    s.resources.remove(address);
                })
                .await?;
                Ok(String::new())
            }
            Verb::Create | Verb::Update => {
                let desired = desired.ok_or_else(|| StepError::NotInPlan(address.clone()))?;
                let (mut attrs, current, token) = {
                    let s = state.lock().await;
                    let lookup = |a: &Address, output: &str| s.resources.get(a).and_then(|r| r.outputs.get(output)).cloned();
                    let record = s.resources.get(address);
                    (resolve_attrs(&desired.attrs, &lookup), record.and_then(Record::observed), record.map(|r| r.token.clone()))
                };
                self.provider.normalize(&address.kind, &mut attrs);
                let created = match (step.verb, current) {
                    (Verb::Update, Some(current)) => self.provider.update(address, &current, &attrs).await?,
                    _ => {
                        // Record the intent first: if eksnet dies during the call, the next run
                        // finds the object by its tags instead of creating a second one.
                        let token = token.unwrap_or_else(new_token);
                        self.save(state, |s| {
                            s.resources.insert(
                                address.clone(),
                                Record { id: None, token: token.clone(), attrs: Default::default(), outputs: Default::default(), deps: desired.deps.clone() },
                            );
                        })
                        .await?;
                        self.provider.create(address, &attrs, &token).await?
                    }
                };
                let id = created.id.clone();
                self.save(state, |s| {
                    let token = s.resources.get(address).map(|r| r.token.clone()).unwrap_or_else(new_token);
                    s.resources.insert(
                        address.clone(),
                        Record { id: Some(created.id), token, attrs: created.attrs, outputs: created.outputs, deps: desired.deps.clone() },
                    );
                })
                .await?;
                Ok(id)
            }
        }
    }
}

#[cfg(test)]
mod tests;
