//! JUnit XML for CI test reports: one test suite per check, one test case per threshold.
//! A missed threshold is a `failure` whose message says what was observed and by how much
//! it missed; quick-junit does the XML escaping.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::check::CheckReport;

/// The JUnit document of `report`.
pub fn render(report: &CheckReport) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new(format!("stormsim check: {}", report.title()));
    let classname = match &report.variant {
        Some(variant) => format!("stormsim.{}.{variant}", report.scenario),
        None => format!("stormsim.{}", report.scenario),
    };
    let seeds: Vec<String> = report.seeds.iter().map(u64::to_string).collect();
    suite.add_property(Property::new("seeds", seeds.join(",")));
    suite.add_property(Property::new("scenario_hash", report.scenario_hash.as_str()));
    for verdict in &report.verdicts {
        let description = report.describe(verdict);
        let status = if description.passed {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let mut message = format!("observed {}", description.observed);
            if !description.note.is_empty() {
                message.push_str(&format!(" ({})", description.note));
            }
            status.set_message(message).set_type("threshold missed");
            status
        };
        let mut case = TestCase::new(description.expression.as_str(), status);
        case.set_classname(classname.as_str());
        case.set_system_out(format!("observed {}", description.observed));
        suite.add_test_case(case);
    }
    let mut junit = Report::new("stormsim");
    junit.add_test_suite(suite);
    junit.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_case_per_threshold_and_a_failure_per_miss() {
        let xml = render(&crate::check::tests::report()).unwrap();
        let parsed = Report::deserialize_from_str(&xml).unwrap();
        let suite = &parsed.test_suites[0];
        assert_eq!((suite.tests, suite.failures), (3, 2));
        assert_eq!(suite.test_cases[1].name.as_str(), "success_rate >= 99% sliding 5m");
        assert!(xml.contains("success_rate &gt;= 90%"), "{xml}");
        assert!(xml.contains("message=\"observed "), "{xml}");
    }
}
