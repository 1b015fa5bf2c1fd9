//! The AWS regions `region` may name, by partition.
//!
//! A region name of the right shape is not enough: `us-east-9` reads like one, but a stack
//! meant for it fails only at deploy time, and the console links in the outputs lead
//! nowhere. The list is the regions the AWS SDKs' endpoint data (botocore 1.43,
//! `endpoints.json`) gives each public partition: commercial (`aws`), China (`aws-cn`),
//! GovCloud (`aws-us-gov`) and the European Sovereign Cloud (`aws-eusc`). The isolated
//! partitions (`aws-iso*`) are left out: this stack's tools reach AWS through public
//! endpoints. A region AWS opens later is one line here.

/// One AWS partition and its regions.
pub(crate) struct Partition {
    /// The partition's name, as in ARNs: `aws`, `aws-cn`, `aws-us-gov`, `aws-eusc`.
    pub name: &'static str,
    /// Whether a region name is of this partition's form (`cn-...`, `us-gov-...`), known
    /// or not: which list to offer for a name that is in none.
    pub shaped: fn(&str) -> bool,
    /// Its regions.
    pub regions: &'static [&'static str],
}

/// The partitions, the most specific form first (`us-gov-` before commercial `us-`).
pub(crate) const PARTITIONS: &[Partition] = &[
    Partition {
        name: "aws-us-gov",
        shaped: |name| name.starts_with("us-gov-"),
        regions: &["us-gov-east-1", "us-gov-west-1"],
    },
    Partition {
        name: "aws-cn",
        shaped: |name| name.starts_with("cn-"),
        regions: &["cn-north-1", "cn-northwest-1"],
    },
    Partition {
        name: "aws-eusc",
        shaped: |name| name.starts_with("eusc-"),
        regions: &["eusc-de-east-1"],
    },
    Partition {
        name: "aws",
        shaped: |name| {
            let geography = name.split('-').next().unwrap_or_default();
            ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"].contains(&geography)
        },
        regions: &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    },
];

/// Whether `name` is a region of one of [`PARTITIONS`].
pub(crate) fn is_known(name: &str) -> bool {
    PARTITIONS.iter().any(|p| p.regions.contains(&name))
}

/// For a well-formed name that is no known region, the rule it breaks (phrased to follow
/// "must"), offering the regions closest to it: those of its partition that share its
/// `geography-direction-` (`us-east-9`: us-east-1, us-east-2), else its geography, else
/// all of the partition's.
pub(crate) fn unknown_rule(name: &str) -> String {
    let Some(partition) = PARTITIONS.iter().find(|p| (p.shaped)(name)) else {
        let mut names: Vec<&str> = PARTITIONS.iter().map(|p| p.name).collect();
        names.sort_unstable();
        return format!(
            "be a region of one of AWS's partitions {} (e.g. us-east-1, cn-north-1, \
             us-gov-west-1)",
            names.join(", ")
        );
    };
    let stem = name.rsplit_once('-').map_or(name, |(stem, _)| stem);
    let geography = name.split('-').next().unwrap_or_default();
    let starting = |prefix: String| -> Vec<&str> {
        partition
            .regions
            .iter()
            .copied()
            .filter(|region| region.starts_with(&prefix))
            .collect()
    };
    let mut closest = starting(format!("{stem}-"));
    if closest.is_empty() {
        closest = starting(format!("{geography}-"));
    }
    if closest.is_empty() {
        closest = partition.regions.to_vec();
    }
    format!(
        "be one of the {} partition's regions, such as {}",
        partition.name,
        closest.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_hold_each_partitions_regions_once_and_of_its_form() {
        let mut all: Vec<&str> = PARTITIONS.iter().flat_map(|p| p.regions.to_vec()).collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "a region listed twice");
        for partition in PARTITIONS {
            for region in partition.regions {
                let first = PARTITIONS.iter().find(|p| (p.shaped)(region));
                assert_eq!(first.map(|p| p.name), Some(partition.name), "{region}");
            }
        }
    }

    #[test]
    fn an_unknown_region_is_offered_its_neighbours_in_its_partition() {
        assert_eq!(
            unknown_rule("us-east-9"),
            "be one of the aws partition's regions, such as us-east-1, us-east-2"
        );
        assert_eq!(
            unknown_rule("eu-middle-1"),
            "be one of the aws partition's regions, such as eu-central-1, eu-central-2, \
             eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-2, eu-west-3"
        );
        assert_eq!(
            unknown_rule("cn-south-1"),
            "be one of the aws-cn partition's regions, such as cn-north-1, cn-northwest-1"
        );
        assert_eq!(
            unknown_rule("us-gov-central-1"),
            "be one of the aws-us-gov partition's regions, such as us-gov-east-1, us-gov-west-1"
        );
        assert!(unknown_rule("xy-east-1").starts_with(
            "be a region of one of AWS's partitions aws, aws-cn, aws-eusc, aws-us-gov"
        ));
    }
}
