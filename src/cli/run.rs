//! `stormsim run FILE`: load a scenario and plan one run of it: simulated with the runner's
//! progress bar and Ctrl-C policy, its folder written, its summary printed.

use super::{OutArgs, PrintArgs, SeedArg};
use crate::app::plan::{self, Delivery, Plan, RunPlan};
use crate::app::{self};
use crate::report::Presentation;
use crate::scenario;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    /// Run this [variants.NAME] of the scenario (merged into the base)
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// Zoom the charts on this stretch: FROM..TO, each a duration from the start (90m) or
    /// a clock time (09:00); the files keep every interval
    #[arg(long, value_name = "FROM..TO")]
    pub window: Option<String>,
}

pub fn plan(args: RunArgs) -> app::Result<Plan> {
    let loaded = scenario::load_variant(&args.file, args.variant.as_deref())?;
    let window = args.window.as_deref().map(|text| plan::window(text, &loaded.scenario)).transpose()?;
    let presentation = Presentation { window, ..super::presentation(&loaded) };
    let delivery = Delivery { presentation, ..args.out.delivery(&args.print) };
    // Refuse an --out folder before spending time on the simulation.
    args.out.dir().preflight()?;
    Ok(Plan::Run(Box::new(RunPlan {
        seed: args.seed.seed.unwrap_or(loaded.scenario.seed),
        scenario: loaded.scenario,
        delivery,
    })))
}
