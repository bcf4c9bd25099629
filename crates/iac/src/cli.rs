//! Every command-line argument of `iac`, in one place.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "iac",
    version,
    about = "Declarative infrastructure as code for containerised web apps on AWS"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No colour, as with `NO_COLOR` set
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a stack file and report every problem found
    Validate(ValidateArgs),
    /// Print the dependency graph of a stack (Graphviz DOT or Mermaid)
    Graph(GraphArgs),
    /// Print the estimated monthly cost of a stack, per resource and line item (offline)
    Cost(CostArgs),
    /// Print the JSON Schema of the stack format
    Schema,
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Show what would change to make AWS match the stack
    Plan(PlanArgs),
    /// Make AWS match the stack (or carry out a saved plan)
    Apply(ApplyArgs),
    /// Delete everything the stack created, in reverse dependency order
    Destroy(DestroyArgs),
    /// Print the stack's outputs from the state
    Output(OutputArgs),
    /// Take an existing AWS object into the stack as one of its resources, without
    /// changing it
    Import(ImportArgs),
    /// Inspect the state, and edit it without touching AWS
    #[command(subcommand)]
    State(StateCommand),
    /// Find what is still in AWS with the stack's tag and unknown to its state (and delete
    /// it with --delete)
    Sweep(SweepArgs),
    /// Remove the state lock left by a crashed run, given its id
    ForceUnlock(ForceUnlockArgs),
}

/// Arguments shared by every command that reads a stack file.
#[derive(Debug, Args, Clone)]
pub struct StackArgs {
    /// The stack file
    pub stack: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// How a stack file is loaded: vars, region, and how diagnostics are shown. Every command
/// that reads a stack file takes these after the file (`apply` too, whose file may also be
/// a saved plan).
#[derive(Debug, Args, Clone)]
pub struct LoadArgs {
    /// A YAML file of var values (repeatable; later files win)
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// A var value, `name=value` (repeatable; wins over var files)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// The AWS region, overriding the stack's `region:` (`AWS_REGION` is used only when
    /// the stack names no region)
    #[arg(long)]
    pub region: Option<String>,
    /// Treat warnings as errors
    #[arg(long)]
    pub deny_warnings: bool,
    /// Show every diagnostic in full (by default, after three of one kind the rest of that
    /// kind are listed in one line)
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

/// Arguments of every command that talks to AWS.
#[derive(Debug, Args, Clone)]
pub struct AwsArgs {
    /// Send every AWS request to this endpoint (e.g. a local emulator)
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The AWS profile to use
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
}

/// Arguments of every command that takes the state lock (apply, destroy, import, sweep,
/// state rm, state mv): flattened into each, so a new command that edits the state takes them the same way.
#[derive(Debug, Args, Clone, Copy, PartialEq, Eq)]
pub struct LockArgs {
    /// How long to wait for the state lock when another run holds it (e.g. `30s`, `5m`,
    /// `1h`), naming the holder while waiting; `0s`, the default, fails at once
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
}

/// `30s`, `5m`, `1h30m`, `500ms`: one or more whole numbers, each with its unit (`ms`, `s`,
/// `m`, `h`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("`{text}` is not a duration: write a number and a unit, e.g. `30s`, `5m` or `1h`")
    };
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let part = match &rest[..unit] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        rest = &rest[unit..];
        total = total.saturating_add(part);
    }
    Ok(total)
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum PlanFormat {
    /// The plan as `iac plan` shows it on a terminal
    #[default]
    Human,
    /// The plan JSON (what `--out` saves)
    Json,
    /// Markdown: summary first, warnings, a collapsible block per resource, a Mermaid graph
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum DiagFormat {
    /// miette's report, with the source lines
    #[default]
    Human,
    /// One JSON document with every diagnostic
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Output format of the diagnostics
    #[arg(long, value_enum, default_value_t)]
    pub format: DiagFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum GraphFormat {
    #[default]
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
pub struct CostArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Print the estimate as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Print the plan as JSON (see docs/plans-and-state.md); the same as `--format json`
    #[arg(long)]
    pub json: bool,
    /// How to print the plan: `human` (the default), `json`, or `markdown` (for a pull
    /// request comment or a GitHub job summary)
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Save the plan to FILE for `iac apply FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 with no changes, 2 with changes, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Only this resource and what it needs, transitively (repeatable)
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// Replace this resource even though nothing in the stack forces it (repeatable)
    #[arg(long = "replace", value_name = "NAME", conflicts_with = "destroy")]
    pub replace: Vec<String>,
    /// Show only what changed in AWS since the last apply (drift); plan no change
    #[arg(long, conflicts_with_all = ["targets", "replace", "refresh"])]
    pub refresh_only: bool,
    /// `--refresh=false`: plan from the state alone, without reading AWS (no drift is seen)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Plan the destroy, as `iac destroy` would show it (with `--target`: the target and
    /// what depends on it); `--out` saves it for `iac apply FILE`
    #[arg(long)]
    pub destroy: bool,
    /// With `--destroy`: leave the stack's orphans (objects tagged with the stack that the
    /// state does not know) instead of deleting them
    #[arg(long, requires = "destroy")]
    pub keep_orphans: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A stack file, or a plan saved with `iac plan --out`
    pub stack: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Apply without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How many operations may run at once
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Only this resource and what it needs, transitively (repeatable)
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// Replace this resource even though nothing in the stack forces it (repeatable)
    #[arg(long = "replace", value_name = "NAME")]
    pub replace: Vec<String>,
    /// Record in the state what changed in AWS since the last apply, without changing AWS
    #[arg(long, conflicts_with_all = ["targets", "replace"])]
    pub refresh_only: bool,
    /// Print the run as JSON events, one per line, on stdout (docs/json-events.md); needs
    /// `--yes` unless FILE is a saved plan
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Destroy without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How many operations may run at once
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Only this resource and what depends on it, which is destroyed first (repeatable)
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// Leave the stack's orphans (objects tagged with the stack that the state does not
    /// know) instead of deleting them
    #[arg(long)]
    pub keep_orphans: bool,
    /// Destroy the stack even though other stacks read its outputs
    #[arg(long)]
    pub force: bool,
    /// Print the run as JSON events, one per line, on stdout (docs/json-events.md); needs
    /// `--yes`
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// One output only
    pub name: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Print JSON: an object of every output, or the one output's value
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// The stack resource the object becomes
    pub name: String,
    /// The object's id as the AWS console shows it: `vpc-…`, an ARN, a name, a hosted zone
    /// id, `ZONE_ID/NAME/TYPE` for a DNS record, `CLUSTER/SERVICE` for an ECS service
    /// (docs/plans-and-state.md lists the forms of every type)
    pub id: String,
    /// Import an object that another stack's `iac:stack` tag claims
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the resources in the state
    List(StateListArgs),
    /// Show one resource of the state
    Show(StateShowArgs),
    /// Forget resources: remove them from the state and leave their objects in AWS
    Rm(StateRmArgs),
    /// Rename a resource in the state, keeping its object
    Mv(StateMvArgs),
}

#[derive(Debug, Args)]
pub struct StateListArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Only used to reach a state kept in S3
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct StateShowArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// The resource to show
    pub name: String,
    /// Only used to reach a state kept in S3
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct StateRmArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// The resources to forget
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
    /// Only used to reach a state kept in S3
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct StateMvArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// The name the state knows the resource by
    pub old: String,
    /// Its new name (not already in the state)
    pub new: String,
    /// Only used to reach a state kept in S3
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Delete what is found, after confirmation
    #[arg(long)]
    pub delete: bool,
    /// Delete without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How many deletes may run at once
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// The id of the lock to remove, as the lock error shows it: a lock taken since by
    /// another run has another id and is left alone
    #[arg(value_name = "LOCK_ID")]
    pub lock_id: String,
    /// Only used to reach a state kept in S3
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_numbers_with_units() {
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "30", "s", "5 m", "5x", "-1s", "1.5m"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("is not a duration"), "{bad}: {err}");
        }
    }
}
