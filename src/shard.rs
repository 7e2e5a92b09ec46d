//! Splitting a run matrix over many processes and putting it back together.
//!
//! A verb that replicates (`sweep`, `check`, `compare`) enumerates its matrix the same way
//! every time: configurations (grid points or variants) in order, each over the seeds in
//! order; job `i` is configuration `i / seeds`, seed `i % seeds`. Shard `K` of `N` (0-based)
//! runs the jobs with `i mod N == K` and writes a shard file: the matrix's fingerprint
//! (its purpose: the command and what it needs to finish; scenario hash and resolved text,
//! configurations, seeds, stormsim version), its own `K/N`, and each job's raw result. `merge` checks the shards belong
//! together and hands back every job in matrix order, so the verb finishes exactly as an
//! unsharded run would.
//!
//! Invariant: a job's result depends only on its configuration and seed, never on the shard
//! or thread that ran it (each run has its own random streams keyed by the seed).

use crate::refusal::Refusal;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::stats::{Series, Summary};

/// Bumped when a field of a shard file changes name or meaning.
pub const SCHEMA_VERSION: u32 = 2;

/// Shard `index` of `count`, 0-based: `--shard 0/4` is the first of four.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    pub index: u64,
    pub count: u64,
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The environment variables read when `--shard` is not given.
pub const SLURM_TASK: &str = "SLURM_ARRAY_TASK_ID";
pub const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
pub const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
pub const SHARDS_VAR: &str = "STORMSIM_SHARDS";

impl ShardSpec {
    /// `K/N` with `0 <= K < N`.
    pub fn parse(text: &str) -> Result<ShardSpec, Refusal> {
        let expected = "K/N with 0 <= K < N, such as 0/4 (shards are numbered from 0)";
        let refuse = |message: &str| Refusal::new(format!("--shard \"{text}\"{message}")).expected(expected);
        let (index, count) = text.split_once('/').ok_or_else(|| refuse(""))?;
        let index: u64 = index.trim().parse().map_err(|_| refuse(""))?;
        let count: u64 = count.trim().parse().map_err(|_| refuse(""))?;
        ShardSpec::new(index, count).map_err(|refusal| refuse(&format!(": {}", refusal.message)))
    }

    pub fn new(index: u64, count: u64) -> Result<ShardSpec, Refusal> {
        if count == 0 {
            return Err(Refusal::new("the shard count is 0"));
        }
        if index >= count {
            return Err(Refusal::new(format!("shard {index} is not below the count {count}")));
        }
        Ok(ShardSpec { index, count })
    }

    /// The shard to run: `--shard K/N`; else a Slurm array task (`SLURM_ARRAY_TASK_ID`
    /// minus `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`); else a Kubernetes Indexed
    /// Job's `JOB_COMPLETION_INDEX` of `--shards N` or `STORMSIM_SHARDS`; else none.
    pub fn resolve(
        flag: Option<&str>,
        shards: Option<u64>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<ShardSpec>, Refusal> {
        if let Some(text) = flag {
            return ShardSpec::parse(text).map(Some);
        }
        let number = |name: &str| -> Result<Option<u64>, Refusal> {
            match env(name) {
                None => Ok(None),
                Some(value) if value.trim().is_empty() => Ok(None),
                Some(value) => value
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| Refusal::new(format!("{name}={value} is not a whole number"))),
            }
        };
        if let Some(task) = number(SLURM_TASK)? {
            let count = match (shards, number(SLURM_COUNT)?) {
                (Some(count), _) | (None, Some(count)) => count,
                (None, None) => {
                    return Err(Refusal::new(format!(
                        "{SLURM_TASK} is set but {SLURM_COUNT} is not; pass --shards N"
                    )));
                }
            };
            let first = number(SLURM_MIN)?.unwrap_or(0);
            let index = task
                .checked_sub(first)
                .ok_or_else(|| Refusal::new(format!("{SLURM_TASK}={task} is below {SLURM_MIN}={first}")))?;
            return ShardSpec::new(index, count)
                .map(Some)
                .map_err(|refusal| refusal.of(&format!("from {SLURM_TASK}")));
        }
        if let Some(index) = number(K8S_INDEX)? {
            let count = match (shards, number(SHARDS_VAR)?) {
                (Some(count), _) | (None, Some(count)) => count,
                (None, None) => {
                    return Err(Refusal::new(format!(
                        "{K8S_INDEX} is set but the shard count is not; pass --shards N or set {SHARDS_VAR}"
                    )));
                }
            };
            return ShardSpec::new(index, count)
                .map(Some)
                .map_err(|refusal| refusal.of(&format!("from {K8S_INDEX}")));
        }
        Ok(None)
    }

    /// Whether job `job` of the matrix is this shard's.
    pub fn owns(&self, job: usize) -> bool {
        job as u64 % self.count == self.index
    }
}

/// The command a matrix runs for, with what it needs to finish besides the runs: the
/// typed plan a shard file carries and `merge` finishes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "lowercase", deny_unknown_fields)]
pub enum Purpose {
    /// A grid of overridden keys, summarised by one metric.
    Sweep { axes: Vec<crate::sweep::grid::Axis>, metric: String },
    /// Thresholds held against the runs: the `--threshold` expressions given besides the
    /// scenario's own.
    Check { thresholds: Vec<String> },
    /// The baseline and its variants: the hash of each configuration.
    Compare { hashes: Vec<String> },
    /// A map of a source's surge: its factors and lengths (the grid) and the settling time.
    Metastability { source: String, factors: Vec<String>, durations: Vec<String>, settle: String },
}

impl Purpose {
    /// The verb: `sweep`, `check`, `compare` or `metastability`.
    pub fn command(&self) -> &'static str {
        match self {
            Purpose::Sweep { .. } => "sweep",
            Purpose::Check { .. } => "check",
            Purpose::Compare { .. } => "compare",
            Purpose::Metastability { .. } => "metastability",
        }
    }
}

/// Everything that decides a matrix's results. Shards merge only when these are equal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    pub purpose: Purpose,
    pub stormsim_version: String,
    /// `scenario::hash` of `resolved_scenario`.
    pub scenario_hash: String,
    /// The base scenario (variant merged in, if any) with every default written out.
    pub resolved_scenario: String,
    pub variant: Option<String>,
    /// The configurations, in matrix order: grid points or variants.
    pub configs: Vec<String>,
    pub seeds: Vec<u64>,
}

impl Fingerprint {
    /// The fingerprint of a matrix over `base` (its variant merged in, if any).
    pub fn new(
        purpose: Purpose,
        base: &crate::scenario::Loaded,
        variant: Option<String>,
        configs: Vec<String>,
        seeds: Vec<u64>,
    ) -> Fingerprint {
        Fingerprint {
            purpose,
            stormsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_hash: base.scenario.hash.clone(),
            resolved_scenario: base.resolved_toml.clone(),
            variant,
            configs,
            seeds,
        }
    }

    pub fn n_jobs(&self) -> usize {
        self.configs.len() * self.seeds.len()
    }

    /// Configuration and seed of job `job`.
    pub fn job(&self, job: usize) -> (usize, u64) {
        let n = self.seeds.len().max(1);
        (job / n, self.seeds[job % n])
    }

    /// The matrix and which shard runs each job, for `--plan`.
    pub fn plan(&self, shards: Option<ShardSpec>) -> String {
        let count = shards.map_or(1, |spec| spec.count);
        let mut res = format!(
            "{} of {} (scenario hash {}): {} configurations x {} seeds = {} jobs over {count} shard{}\n",
            self.purpose.command(),
            scenario_name(&self.resolved_scenario),
            self.scenario_hash,
            self.configs.len(),
            self.seeds.len(),
            self.n_jobs(),
            if count == 1 { "" } else { "s" },
        );
        res.push_str("job\tshard\tseed\tconfiguration\n");
        for job in 0..self.n_jobs() {
            let (config, seed) = self.job(job);
            let shard = job as u64 % count;
            let mark = if shards.is_some_and(|spec| spec.index == shard) { " *" } else { "" };
            res.push_str(&format!("{job}\t{shard}/{count}{mark}\t{seed}\t{}\n", self.configs[config]));
        }
        for shard in 0..count {
            let jobs = (0..self.n_jobs()).filter(|job| *job as u64 % count == shard).count();
            res.push_str(&format!("shard {shard}/{count}: {jobs} jobs\n"));
        }
        res
    }
}

/// `simulation.name` of a resolved scenario, for messages.
fn scenario_name(resolved: &str) -> String {
    resolved
        .lines()
        .find_map(|line| line.strip_prefix("name = "))
        .map_or_else(|| "the scenario".to_string(), |name| name.trim_matches('"').to_string())
}

/// One run of the matrix, as a shard file keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub job: usize,
    pub config: usize,
    pub seed: u64,
    pub summary: Summary,
    /// The interval series, for commands whose results read it (check, compare).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Series>,
}

/// A shard file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardFile {
    pub schema_version: u32,
    pub fingerprint: Fingerprint,
    pub shard: ShardSpec,
    pub jobs: Vec<JobResult>,
    /// The run was interrupted: `jobs` holds only the runs that finished.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// The worker threads the shard ran on, so an operator can see it used the CPUs it was
    /// given (results do not depend on it). Absent from files of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
}

impl ShardFile {
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self).map(|json| json + "\n")
    }

    /// Reads the shard file `file` from its `text`. A file of another schema version is
    /// refused as such, before its fields are read.
    pub fn parse(file: &str, text: &str) -> Result<ShardFile, MergeError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let unreadable = |error: serde_json::Error| MergeError::Unreadable {
            file: file.to_owned(),
            reason: error.to_string(),
        };
        let version: Version = serde_json::from_str(text).map_err(unreadable)?;
        if version.schema_version != SCHEMA_VERSION {
            return Err(MergeError::Version { file: file.to_owned(), found: version.schema_version });
        }
        serde_json::from_str(text).map_err(unreadable)
    }
}

/// Why shards cannot be merged.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("no shard files to merge")]
    Empty,
    #[error("{file} is not a readable shard file: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file} is a shard file of version {found}; this stormsim reads version {SCHEMA_VERSION}")]
    Version { file: String, found: u32 },
    #[error("{file} does not belong with {first}: its {what} differs")]
    Mismatch { file: String, first: String, what: &'static str },
    #[error("shard {shard} is given twice: {first} and {second}")]
    Duplicate { shard: ShardSpec, first: String, second: String },
    /// Every shard without a whole result at once, so one rerun covers them all.
    #[error("{}", incomplete(.missing, .interrupted, *.count))]
    Missing { missing: Vec<u64>, interrupted: Vec<(u64, String)>, count: u64 },
    #[error("{file} does not hold exactly the jobs of shard {shard}")]
    Jobs { file: String, shard: ShardSpec },
    #[error("the shards' plan cannot be finished: {reason}")]
    Plan { reason: String },
}

/// `missing shards 3, 5 of 8`, then the interrupted shards with their files.
fn incomplete(missing: &[u64], interrupted: &[(u64, String)], count: u64) -> String {
    fn join(items: impl Iterator<Item = impl ToString>) -> String {
        items.map(|item| item.to_string()).collect::<Vec<_>>().join(", ")
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut res = Vec::new();
    if !missing.is_empty() {
        res.push(format!("missing shard{} {} of {count}", plural(missing.len()), join(missing.iter())));
    }
    if !interrupted.is_empty() {
        res.push(format!(
            "shard{} {} of {count} {} the partial result of an interrupted run ({}); run {} again",
            plural(interrupted.len()),
            join(interrupted.iter().map(|(index, _)| index)),
            if interrupted.len() == 1 { "is" } else { "are" },
            join(interrupted.iter().map(|(_, file)| file)),
            if missing.is_empty() && interrupted.len() == 1 { "that shard" } else { "those shards" },
        ));
    }
    res.join("; ")
}

/// Checks that `shards` (named by file) are every shard of one matrix, once each, and
/// returns the fingerprint and every job in matrix order.
pub fn merge(shards: Vec<(String, ShardFile)>) -> Result<(Fingerprint, Vec<JobResult>), MergeError> {
    let Some((first_name, first)) = shards.first() else { return Err(MergeError::Empty) };
    let (first_name, fingerprint, count) = (first_name.clone(), first.fingerprint.clone(), first.shard.count);
    let mut seen: Vec<Option<String>> = vec![None; usize::try_from(count).unwrap_or(usize::MAX).min(1 << 20)];
    let mut jobs = Vec::with_capacity(fingerprint.n_jobs());
    let mut interrupted = Vec::new();
    for (name, shard) in shards {
        if shard.schema_version != SCHEMA_VERSION {
            return Err(MergeError::Version { file: name, found: shard.schema_version });
        }
        let what = differing(&fingerprint, &shard.fingerprint)
            .or((shard.shard.count != count).then_some("shard count"));
        if let Some(what) = what {
            return Err(MergeError::Mismatch { file: name, first: first_name, what });
        }
        let slot = seen
            .get_mut(shard.shard.index as usize)
            .ok_or(MergeError::Jobs { file: name.clone(), shard: shard.shard })?;
        if let Some(previous) = slot {
            return Err(MergeError::Duplicate { shard: shard.shard, first: previous.clone(), second: name });
        }
        if shard.interrupted {
            *slot = Some(name.clone());
            interrupted.push((shard.shard.index, name));
            continue;
        }
        let expected: Vec<usize> = (0..fingerprint.n_jobs()).filter(|job| shard.shard.owns(*job)).collect();
        let held: Vec<usize> = shard.jobs.iter().map(|job| job.job).collect();
        let consistent = shard.jobs.iter().all(|job| fingerprint.job(job.job) == (job.config, job.seed));
        if held != expected || !consistent {
            return Err(MergeError::Jobs { file: name, shard: shard.shard });
        }
        *slot = Some(name);
        jobs.extend(shard.jobs);
    }
    let missing: Vec<u64> =
        (0..count).filter(|index| seen.get(*index as usize).is_none_or(Option::is_none)).collect();
    if !missing.is_empty() || !interrupted.is_empty() {
        interrupted.sort();
        return Err(MergeError::Missing { missing, interrupted, count });
    }
    jobs.sort_by_key(|job| job.job);
    Ok((fingerprint, jobs))
}

/// The first part of two fingerprints that differs, named for a message.
fn differing(a: &Fingerprint, b: &Fingerprint) -> Option<&'static str> {
    [
        (a.purpose.command() != b.purpose.command(), "command"),
        (a.stormsim_version != b.stormsim_version, "stormsim version"),
        (a.scenario_hash != b.scenario_hash || a.resolved_scenario != b.resolved_scenario, "scenario hash"),
        (a.variant != b.variant, "variant"),
        (a.configs != b.configs, "grid of configurations"),
        (a.seeds != b.seeds, "seeds"),
        (a.purpose != b.purpose, "settings"),
    ]
    .into_iter()
    .find_map(|(differs, what)| differs.then_some(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn shards_come_from_the_flag_or_the_batch_system() {
        assert_eq!(
            ShardSpec::resolve(Some("1/3"), None, env(&[])).unwrap(),
            Some(ShardSpec { index: 1, count: 3 })
        );
        assert!(
            ShardSpec::resolve(Some("3/3"), None, env(&[]))
                .unwrap_err()
                .to_string()
                .contains("not below the count")
        );
        assert!(
            ShardSpec::resolve(Some("x"), None, env(&[]))
                .unwrap_err()
                .to_string()
                .contains("numbered from 0")
        );
        assert_eq!(ShardSpec::resolve(None, None, env(&[])).unwrap(), None);
        let slurm = env(&[(SLURM_TASK, "5"), (SLURM_COUNT, "4"), (SLURM_MIN, "2")]);
        assert_eq!(ShardSpec::resolve(None, None, slurm).unwrap(), Some(ShardSpec { index: 3, count: 4 }));
        let k8s = env(&[(K8S_INDEX, "2"), (SHARDS_VAR, "3")]);
        assert_eq!(ShardSpec::resolve(None, None, k8s).unwrap(), Some(ShardSpec { index: 2, count: 3 }));
        assert_eq!(
            ShardSpec::resolve(None, Some(5), env(&[(K8S_INDEX, "4")])).unwrap(),
            Some(ShardSpec { index: 4, count: 5 })
        );
        assert!(
            ShardSpec::resolve(None, None, env(&[(K8S_INDEX, "0")]))
                .unwrap_err()
                .to_string()
                .contains("--shards N")
        );
        assert_eq!(
            ShardSpec::resolve(Some("0/1"), None, env(&[(K8S_INDEX, "4")])).unwrap(),
            Some(ShardSpec { index: 0, count: 1 }),
            "the flag wins"
        );
    }

    fn fingerprint() -> Fingerprint {
        let base = crate::scenario::load_str(
            "[simulation]\nduration = \"1m\"\n[classes.a]\n[sources.s]\nclient = \"c\"\nrate = \"1/s\"\n[clients.c]\ntarget = \"x\"\n[services.x]\ninstances = 1\ncores = 1\ncpu = \"1ms\"\n",
            "x.toml",
        )
        .unwrap();
        let purpose = Purpose::Sweep { axes: Vec::new(), metric: "success_rate".into() };
        Fingerprint::new(purpose, &base, None, vec!["a".into(), "b".into()], vec![7, 8, 9])
    }

    fn shard(index: u64, count: u64) -> (String, ShardFile) {
        let fingerprint = fingerprint();
        let spec = ShardSpec { index, count };
        let summary = crate::report::tests::synthetic_summary();
        let jobs = (0..fingerprint.n_jobs())
            .filter(|job| spec.owns(*job))
            .map(|job| {
                let (config, seed) = fingerprint.job(job);
                JobResult { job, config, seed, summary: summary.clone(), series: None }
            })
            .collect();
        (
            format!("shard-{index}.json"),
            ShardFile {
                schema_version: SCHEMA_VERSION,
                fingerprint,
                shard: spec,
                jobs,
                interrupted: false,
                threads: Some(2),
            },
        )
    }

    #[test]
    fn merging_checks_every_shard_once() {
        let (fingerprint, jobs) = merge(vec![shard(1, 2), shard(0, 2)]).unwrap();
        assert_eq!(fingerprint, self::fingerprint());
        assert_eq!(jobs.iter().map(|job| job.job).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
        assert_eq!((jobs[4].config, jobs[4].seed), (1, 8));
        assert_eq!(merge(vec![shard(1, 3), shard(0, 3)]).unwrap_err().to_string(), "missing shard 2 of 3");
        let error = merge(vec![shard(0, 2), shard(0, 2)]).unwrap_err();
        assert_eq!(error.to_string(), "shard 0/2 is given twice: shard-0.json and shard-0.json");
        let mut other = shard(1, 2);
        other.1.fingerprint.seeds = vec![1, 2, 3];
        other.0 = "other.json".into();
        assert_eq!(
            merge(vec![shard(0, 2), other]).unwrap_err().to_string(),
            "other.json does not belong with shard-0.json: its seeds differs"
        );
        assert_eq!(
            merge(vec![shard(0, 2), shard(1, 3)]).unwrap_err().to_string(),
            "shard-1.json does not belong with shard-0.json: its shard count differs"
        );
        let mut short = shard(1, 2);
        short.1.jobs.pop();
        assert!(matches!(merge(vec![shard(0, 2), short]).unwrap_err(), MergeError::Jobs { .. }));
        assert_eq!(merge(vec![]).unwrap_err(), MergeError::Empty);
    }

    #[test]
    fn merging_names_every_missing_and_interrupted_shard_at_once() {
        let partial = |index| {
            let (name, mut file) = shard(index, 5);
            file.interrupted = true;
            file.jobs.truncate(0);
            (name, file)
        };
        assert_eq!(
            merge(vec![shard(0, 5), partial(3), shard(2, 5)]).unwrap_err().to_string(),
            "missing shards 1, 4 of 5; shard 3 of 5 is the partial result of an interrupted run \
             (shard-3.json); run those shards again"
        );
        assert_eq!(
            merge(vec![partial(4), shard(0, 5), shard(2, 5), partial(1), shard(3, 5)])
                .unwrap_err()
                .to_string(),
            "shards 1, 4 of 5 are the partial result of an interrupted run (shard-1.json, shard-4.json); \
             run those shards again"
        );
        let (_, whole) = shard(0, 1);
        let mut file = whole.clone();
        file.interrupted = true;
        assert_eq!(
            merge(vec![("s.json".into(), file)]).unwrap_err().to_string(),
            "shard 0 of 1 is the partial result of an interrupted run (s.json); run that shard again"
        );
    }

    #[test]
    fn a_shard_file_round_trips_through_json() {
        let (_, file) = shard(0, 1);
        let mut file = file;
        file.jobs[0].series = Some(crate::report::tests::synthetic_series(5));
        let json = file.to_json().unwrap();
        let back: ShardFile = serde_json::from_str(&json).unwrap();
        assert_eq!(back, file);
    }

    #[test]
    fn the_plan_lists_every_job_and_its_shard() {
        let plan = fingerprint().plan(Some(ShardSpec { index: 1, count: 4 }));
        assert!(plan.starts_with("sweep of x (scenario hash "), "{plan}");
        assert!(plan.contains("2 configurations x 3 seeds = 6 jobs over 4 shards"), "{plan}");
        assert!(plan.contains("5\t1/4 *\t9\tb\n"), "{plan}");
        assert!(plan.contains("shard 0/4: 2 jobs\nshard 1/4: 2 jobs\nshard 2/4: 1 jobs\n"), "{plan}");
    }

    #[test]
    fn a_shard_file_of_another_version_or_plan_is_refused_by_name() {
        let (_, file) = shard(0, 1);
        let json = file.to_json().unwrap();
        assert_eq!(ShardFile::parse("s.json", &json).unwrap(), file);
        let old = json.replacen("\"schema_version\":2", "\"schema_version\":1", 1);
        assert_eq!(
            ShardFile::parse("old.json", &old).unwrap_err(),
            MergeError::Version { file: "old.json".into(), found: 1 }
        );
        let unknown = json.replacen("\"command\":\"sweep\"", "\"command\":\"replay\"", 1);
        let error = ShardFile::parse("odd.json", &unknown).unwrap_err();
        assert!(
            error.to_string().starts_with("odd.json is not a readable shard file: unknown variant `replay`"),
            "{error}"
        );
    }
}
