//! Commands around the cluster and the graph: `token`, `kubeconfig`, `graph`.

use super::*;

pub(super) async fn token_command(g: &Global, cluster: &str) -> anyhow::Result<i32> {
    use aws_credential_types::provider::ProvideCredentials as _;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &g.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let config = loader.load().await;
    let region = config.region().map(|r| r.to_string()).context("no AWS region: pass --region or set AWS_REGION")?;
    let provider = config.credentials_provider().context("no AWS credentials provider is configured")?;
    let credentials = provider.provide_credentials().await.map_err(|e| anyhow::anyhow!("no AWS credentials found: {e}"))?;
    let now = std::time::SystemTime::now();
    let token = crate::token::token(&credentials, &region, cluster, now)?;
    println!("{}", crate::token::exec_credential(&token, now));
    Ok(0)
}

pub(super) async fn kubeconfig_command(g: &Global, write: Option<&Path>, print: bool) -> anyhow::Result<i32> {
    let stack = load_stack(g)?;
    let cluster = stack.cluster.as_ref().context("the stack has no `cluster`")?;
    let store = stack_store(g, &stack).await?;
    let state = load_existing(&store, "apply the stack first").await?;
    let record = state
        .resources
        .get(&Address::new("eks_cluster", "main"))
        .filter(|r| r.id.is_some())
        .ok_or_else(|| help("the cluster does not exist yet", "`eksnet apply` creates it"))?;
    let output = |k: &str| record.outputs.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let access = crate::kubeconfig::ClusterAccess {
        name: cluster.name.clone(),
        arn: output("arn"),
        endpoint: output("endpoint"),
        ca_data: output("ca_data"),
        region: stack.region.clone(),
    };
    let eksnet = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "eksnet".into());
    if print {
        print!("{}", serde_saphyr::to_string(&crate::kubeconfig::merge(None, &access, &eksnet)?)?);
        return Ok(0);
    }
    let path = match write {
        Some(p) => p.to_path_buf(),
        None => crate::kubeconfig::default_path()?,
    };
    crate::kubeconfig::write(&path, &access, &eksnet)?;
    eprintln!("wrote context `{}` to {}", access.arn, path.display());
    Ok(0)
}

/// `eksnet graph`: the stack's graph, or with `--plan` a saved plan's changes (which needs no
/// stack file, so a reviewer can draw a plan downloaded from CI).
pub(super) fn graph_command(g: &Global, args: &crate::cli::GraphArgs) -> anyhow::Result<String> {
    use crate::cli::GraphFormat;
    use crate::render::mermaid::Diagram;
    if let Some(path) = &args.plan {
        let diagram = Diagram::of_plan(&read_plan(path)?, true);
        return Ok(match args.format {
            GraphFormat::Mermaid => diagram.render(),
            GraphFormat::Dot => diagram.dot(),
        });
    }
    let desired = load_stack(g)?.desired();
    let graph = crate::graph::Graph::build(&desired).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(match args.format {
        GraphFormat::Dot => graph.dot(),
        GraphFormat::Mermaid => Diagram::of_stack(graph.order().cloned(), &desired).render(),
    })
}
