//! A bounded-parallel walk over a dependency graph. A node starts the moment all its
//! dependencies are done; when one fails, its dependents are skipped (not reported as errors,
//! so the user sees root causes), and independent branches carry on, except that no
//! destructive node starts once anything has failed: a failed run stops taking things down.
//! Knows nothing of clouds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;

use futures::stream::{FuturesUnordered, StreamExt};

/// The outcome of one node.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome<E> {
    Done,
    Failed(E),
    /// Not run because a dependency failed or was skipped.
    Skipped,
    /// Not started because it is destructive and a node had failed (or depends on one such).
    Held,
    /// Not started because the walk was asked to stop (an interrupt).
    NotStarted,
    /// Never ready although nothing failed: its dependencies wait on each other (a defect in
    /// how the steps were ordered; the graph of the stack itself has no circle).
    Unreached,
}

/// Runs `run(i)` for every node `i` once every node in `deps[i]` is done, with at most
/// `parallelism` nodes in flight. Once a node has failed, a node for which `destructive(i)` holds
/// is not started (`Held`, and its dependents with it). Once `stop()` says so, no node starts
/// (`NotStarted`); those in flight finish. Returns one outcome per node.
pub async fn walk<E, F, Fut>(deps: &[Vec<usize>], parallelism: usize, destructive: impl Fn(usize) -> bool, stop: impl Fn() -> bool, run: F) -> Vec<Outcome<E>>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let n = deps.len();
    let mut dependents = vec![vec![]; n];
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut outcomes: Vec<Option<Outcome<E>>> = (0..n).map(|_| None).collect();
    // When more nodes are ready than may run, the ones with the longest chain of dependents
    // go first: they are the likeliest to be on the critical path.
    let height = heights(&dependents);
    let mut ready: BinaryHeap<(usize, Reverse<usize>)> = (0..n).filter(|&i| waiting[i] == 0).map(|i| (height[i], Reverse(i))).collect();
    let mut running = FuturesUnordered::new();
    let limit = parallelism.max(1);

    let mut failed = false;
    loop {
        while running.len() < limit {
            let Some((_, Reverse(i))) = ready.pop() else { break };
            if stop() {
                outcomes[i] = Some(Outcome::NotStarted);
                continue;
            }
            if failed && destructive(i) {
                outcomes[i] = Some(Outcome::Held);
                mark_dependents(i, &dependents, &mut outcomes, |_| Outcome::Held);
                continue;
            }
            let fut = run(i);
            running.push(async move { (i, fut.await) });
        }
        let Some((i, result)) = running.next().await else {
            break;
        };
        match result {
            Ok(()) => {
                outcomes[i] = Some(Outcome::Done);
                for &j in &dependents[i] {
                    waiting[j] -= 1;
                    if waiting[j] == 0 && outcomes[j].is_none() {
                        ready.push((height[j], Reverse(j)));
                    }
                }
            }
            Err(e) => {
                failed = true;
                outcomes[i] = Some(Outcome::Failed(e));
                // A destructive dependent did not run because of the failure: it is held (and
                // listed), where other dependents are merely skipped.
                mark_dependents(i, &dependents, &mut outcomes, |j| if destructive(j) { Outcome::Held } else { Outcome::Skipped });
            }
        }
    }
    // Nodes never reached: after a stop, or never ready (only possible with a circle among the
    // steps' dependencies), which is said, never passed over.
    let stopped = stop();
    outcomes.into_iter().map(|o| o.unwrap_or(if stopped { Outcome::NotStarted } else { Outcome::Unreached })).collect()
}

/// The number of nodes on the longest chain of dependents starting at each node (1 for a
/// node nothing depends on). Nodes on a cycle (which the graph rules out) count as 1.
fn heights(dependents: &[Vec<usize>]) -> Vec<usize> {
    let n = dependents.len();
    let mut height = vec![0; n];
    // Iterative post-order: a node's height is known once its dependents' are.
    for root in 0..n {
        let mut stack = vec![(root, 0)];
        while let Some((i, next)) = stack.pop() {
            if next == 0 {
                if height[i] != 0 {
                    continue;
                }
                height[i] = 1; // in progress; also ends a cycle
            }
            if let Some(&j) = dependents[i].get(next) {
                stack.push((i, next + 1));
                if height[j] == 0 {
                    stack.push((j, 0));
                }
            } else {
                height[i] = 1 + dependents[i].iter().map(|&j| height[j]).max().unwrap_or(0);
            }
        }
    }
    height
}

fn mark_dependents<E>(from: usize, dependents: &[Vec<usize>], outcomes: &mut [Option<Outcome<E>>], outcome: impl Fn(usize) -> Outcome<E>) {
    let mut stack = dependents[from].clone();
    while let Some(j) = stack.pop() {
        if outcomes[j].is_none() {
            outcomes[j] = Some(outcome(j));
            stack.extend(&dependents[j]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn runs_in_dependency_order_without_level_barriers() {
        // 0 → 1 → 3, 0 → 2 (slow). 1 and 3 must not wait for 2.
        let deps = vec![vec![], vec![0], vec![0], vec![1]];
        let log = Mutex::new(vec![]);
        let outcomes = walk::<(), _, _>(
            &deps,
            10,
            |_| false,
            || false,
            |i| {
                let log = &log;
                async move {
                    tokio::time::sleep(Duration::from_millis(if i == 2 { 200 } else { 10 })).await;
                    log.lock().unwrap().push(i);
                    Ok(())
                }
            },
        )
        .await;
        assert!(outcomes.iter().all(|o| *o == Outcome::Done));
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 3, 2]);
    }

    #[tokio::test]
    async fn nodes_on_a_circle_are_unreached_not_passed_over() {
        // 0 runs; 1 and 2 wait on each other.
        let deps = vec![vec![], vec![0, 2], vec![1]];
        let outcomes = walk::<(), _, _>(&deps, 4, |_| false, || false, |_| async { Ok(()) }).await;
        assert_eq!(outcomes, vec![Outcome::Done, Outcome::Unreached, Outcome::Unreached]);
    }

    #[tokio::test]
    async fn a_failure_skips_dependents_and_lets_other_branches_finish() {
        // 0 fails; 1 depends on 0; 2 → 3 are independent; 4 depends on 1 and 3.
        let deps = vec![vec![], vec![0], vec![], vec![2], vec![1, 3]];
        let ran = Mutex::new(vec![]);
        let outcomes = walk(
            &deps,
            2,
            |_| false,
            || false,
            |i| {
                let ran = &ran;
                async move {
                    ran.lock().unwrap().push(i);
                    if i == 0 { Err("boom") } else { Ok(()) }
                }
            },
        )
        .await;
        assert_eq!(outcomes, vec![Outcome::Failed("boom"), Outcome::Skipped, Outcome::Done, Outcome::Done, Outcome::Skipped]);
        let mut ran = ran.into_inner().unwrap();
        ran.sort();
        assert_eq!(ran, vec![0, 2, 3]);
    }

    #[tokio::test]
    async fn after_a_failure_no_destructive_node_starts() {
        // 0 fails at once while 1 (a create on another branch) is still running: 1 finishes;
        // 2 (destructive, ready only after 1) is held, and 3 (depends on 2) with it.
        let deps = vec![vec![], vec![], vec![1], vec![2]];
        let ran = Mutex::new(vec![]);
        let outcomes = walk(
            &deps,
            2,
            |i| i >= 2,
            || false,
            |i| {
                let ran = &ran;
                async move {
                    ran.lock().unwrap().push(i);
                    if i == 1 {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    if i == 0 { Err("boom") } else { Ok(()) }
                }
            },
        )
        .await;
        assert_eq!(outcomes, vec![Outcome::Failed("boom"), Outcome::Done, Outcome::Held, Outcome::Held]);
        let mut ran = ran.into_inner().unwrap();
        ran.sort();
        assert_eq!(ran, vec![0, 1]);
    }

    #[tokio::test]
    async fn the_longest_chain_starts_first_when_slots_are_scarce() {
        // 0, 1, 2 are ready; 2 heads a chain 2 → 3 → 4. With one slot, 2 goes first.
        let deps = vec![vec![], vec![], vec![], vec![2], vec![3]];
        let log = Mutex::new(vec![]);
        walk::<(), _, _>(
            &deps,
            1,
            |_| false,
            || false,
            |i| {
                let log = &log;
                async move {
                    log.lock().unwrap().push(i);
                    Ok(())
                }
            },
        )
        .await;
        assert_eq!(*log.lock().unwrap(), vec![2, 3, 0, 1, 4]);
    }

    #[test]
    fn heights_count_the_longest_chain_of_dependents() {
        // 0 → 1 → 3, 0 → 2
        assert_eq!(heights(&[vec![1, 2], vec![3], vec![], vec![]]), vec![3, 2, 1, 1]);
    }

    #[tokio::test]
    async fn never_exceeds_the_parallelism_bound() {
        let deps = vec![vec![]; 12];
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        walk::<(), _, _>(
            &deps,
            3,
            |_| false,
            || false,
            |_| {
                let (now, peak) = (&now, &peak);
                async move {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                }
            },
        )
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }
}
