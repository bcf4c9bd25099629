//! Every command-line argument of `iac`, in one place.

use std::path::PathBuf;

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
    /// Remove a stale lock left by a crashed run
    ForceUnlock(ForceUnlockArgs),
}

/// Arguments shared by every command that reads a stack file.
#[derive(Debug, Args, Clone)]
pub struct StackArgs {
    /// The stack file
    pub stack: PathBuf,
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
    #[arg(long = "replace", value_name = "NAME")]
    pub replace: Vec<String>,
    /// Show only what changed in AWS since the last apply (drift); plan no change
    #[arg(long, conflicts_with_all = ["targets", "replace", "refresh"])]
    pub refresh_only: bool,
    /// `--refresh=false`: plan from the state alone, without reading AWS (no drift is seen)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A stack file, or a plan saved with `iac plan --out`
    pub stack: PathBuf,
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
    #[command(flatten)]
    pub aws: AwsArgs,
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
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
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
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Only used to reach a state kept in S3
    #[command(flatten)]
    pub aws: AwsArgs,
}
