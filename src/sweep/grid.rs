//! The grid of a sweep: the swept parameters (the file's `[sweep]` keys, then `--param`
//! flags, a flag replacing the file's key on the same path) and every combination of their
//! values, the first parameter varying slowest.

use serde::{Deserialize, Serialize};

use crate::scenario::overrides::{Parameter, Setting};

/// A parameter's path and the labels of its values, as outputs show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Axis {
    pub path: String,
    pub values: Vec<String>,
}

/// The swept parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    pub parameters: Vec<Parameter>,
}

impl Grid {
    /// The file's parameters, with each flag replacing the file's on its path or added after.
    pub fn new(file: Vec<Parameter>, flags: Vec<Parameter>) -> Grid {
        let mut parameters = file;
        for flag in flags {
            match parameters.iter_mut().find(|parameter| parameter.path == flag.path) {
                Some(existing) => *existing = flag,
                None => parameters.push(flag),
            }
        }
        Grid { parameters }
    }

    pub fn axes(&self) -> Vec<Axis> {
        self.parameters
            .iter()
            .map(|parameter| Axis {
                path: parameter.path.clone(),
                values: parameter.values.iter().map(|value| value.label.clone()).collect(),
            })
            .collect()
    }

    /// The overrides of one grid point.
    pub fn settings(&self, point: &[usize]) -> Vec<Setting<'_>> {
        self.parameters.iter().zip(point).map(|(parameter, &value)| Setting { parameter, value }).collect()
    }
}

/// Every combination of the axes' values, as value indices, the first axis slowest.
pub fn points(axes: &[Axis]) -> Vec<Vec<usize>> {
    axes.iter().fold(vec![Vec::new()], |points, axis| {
        points
            .iter()
            .flat_map(|point| {
                (0..axis.values.len()).map(move |value| {
                    let mut next = point.clone();
                    next.push(value);
                    next
                })
            })
            .collect()
    })
}

/// `services.api.instances=4 clients.app.timeout=2s`.
pub fn label(axes: &[Axis], point: &[usize]) -> String {
    axes.iter()
        .zip(point)
        .map(|(axis, &value)| format!("{}={}", axis.path, axis.values[value]))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_vary_the_last_axis_fastest() {
        let axes = [
            Axis { path: "a.x".into(), values: vec!["1".into(), "2".into()] },
            Axis { path: "b.y".into(), values: vec!["p".into(), "q".into(), "r".into()] },
        ];
        let points = points(&axes);
        assert_eq!(points.len(), 6);
        assert_eq!(points[0], [0, 0]);
        assert_eq!(points[1], [0, 1]);
        assert_eq!(points[5], [1, 2]);
        assert_eq!(label(&axes, &points[4]), "a.x=2 b.y=q");
        assert_eq!(super::points(&[]), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn a_flag_replaces_the_files_parameter_on_its_path() {
        let file = vec![
            Parameter::from_flag("--param", "a.x=1,2", 0).unwrap(),
            Parameter::from_flag("--param", "b.y=3", 1).unwrap(),
        ];
        let flags = vec![
            Parameter::from_flag("--param", "b.y=4,5", 2).unwrap(),
            Parameter::from_flag("--param", "c.z=6", 3).unwrap(),
        ];
        let grid = Grid::new(file, flags);
        let axes = grid.axes();
        assert_eq!(axes.iter().map(|axis| axis.path.as_str()).collect::<Vec<_>>(), ["a.x", "b.y", "c.z"]);
        assert_eq!(axes[1].values, ["4", "5"]);
    }
}
