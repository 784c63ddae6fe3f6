//! What `eksnet import --from-terraform` shows: before, the marks it will put on each object
//! (like a plan); after, what it took, what it left and what happens to that, and the
//! `terraform state rm` commands that end Terraform's management of what eksnet now owns.

use std::fmt::Write;

use crate::import::adopt::to_mark;
use crate::import::mapping::Mapping;

/// The adoption, shown before it is confirmed.
pub fn adoption(m: &Mapping, stack: &str, on: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "eksnet will take over {} objects of the Terraform state as stack `{stack}` ({on}).", m.taken.len() + m.kube.len());
    let _ = writeln!(o, "The only change in AWS: these {} objects get the tags eksnet:stack, eksnet:address and eksnet:lineage.\n", to_mark(m).len());
    for t in to_mark(m) {
        let _ = writeln!(o, "  ~ {:<40} {:<24} ← {}", t.address.to_string(), short(&t.id), t.terraform);
    }
    let derived: Vec<_> = m.taken.iter().filter(|t| !t.tagged).collect();
    if !derived.is_empty() {
        let _ = writeln!(o, "\nFound through the objects above (no tags of their own):");
        for t in derived {
            let _ = writeln!(o, "    {:<40} ← {}", t.address.to_string(), t.terraform);
        }
    }
    if !m.kube.is_empty() {
        let _ = writeln!(
            o,
            "\nIn the cluster, these Kubernetes objects get the labels eksnet.io/stack and eksnet.io/lineage and the annotation eksnet.io/address:"
        );
        for k in &m.kube {
            let _ = writeln!(o, "  ~ {:<40} {:<24} ← {}", k.address.to_string(), k.template_path(), k.terraform);
        }
    }
    o
}

/// An EKS ARN shortened to its name; other ids as they are.
fn short(id: &str) -> &str {
    if id.starts_with("arn:") { id.rsplit_once(':').map(|(_, r)| r).unwrap_or(id) } else { id }
}

/// The report after the import.
pub fn report(m: &Mapping, stack_file: &str, state: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Imported {} Terraform objects into {stack_file} (state {state}).", m.taken.len() + m.kube.len());
    if !m.notes.is_empty() {
        let _ = writeln!(o, "\nDifferences `eksnet plan` will show (also noted in {stack_file}):");
        for n in &m.notes {
            let _ = writeln!(o, "  - {n}");
        }
    }
    if !m.referenced.is_empty() {
        let _ = writeln!(o, "\nUsed by the stack but not managed by eksnet (they stay as they are, also after `eksnet destroy`):");
        for r in &m.referenced {
            let _ = writeln!(o, "  {}: {}", r.terraform, r.why);
        }
    }
    if !m.left.is_empty() {
        let _ = writeln!(o, "\nNot taken (left alone, and still in Terraform's state):");
        for l in &m.left {
            let _ = writeln!(o, "  {}: {}", l.terraform, l.why);
        }
    }
    let _ = writeln!(o, "\nTerraform's state was not changed. So that Terraform no longer manages what eksnet now owns,");
    let _ = writeln!(o, "remove these from it (and their blocks from the configuration), then check with `terraform plan`:\n");
    let _ = write!(o, "{}", state_rm(m));
    let _ = writeln!(o, "\nThen `eksnet -f {stack_file} plan` shows what eksnet would still change.");
    o
}

/// `terraform state rm` for every object eksnet took or uses by ARN, one per line, each
/// address quoted for the shell (for_each keys hold `"`).
pub fn state_rm(m: &Mapping) -> String {
    let mut o = String::new();
    let kube = m.kube.iter().map(|k| &k.terraform);
    for a in m.taken.iter().map(|t| &t.terraform).chain(kube).chain(m.referenced.iter().map(|r| &r.terraform)) {
        let _ = writeln!(o, "terraform state rm '{}'", a.replace('\'', "'\\''"));
    }
    o
}
