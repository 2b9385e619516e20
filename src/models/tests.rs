use super::ProviderKind::{Namespace, San as SanKind, Transport};
use super::*;

/// A mutant is exactly one knob away from conforming, and that knob applies to its
/// kind; another conforming model differs only in values that break nothing.
#[test]
fn every_mutant_is_one_knob_from_conforming() {
    for model in MODELS {
        let changed: Vec<_> =
            knobs::differences(&Behaviour::CONFORMING, &model.behaviour).collect();
        for (knob, _) in &changed {
            assert!(
                knob.applies_to(model.kind),
                "{} sets {}, which does not apply to {:?}",
                model.name,
                knob.path,
                model.kind
            );
        }
        match model.breaks() {
            Some(_) => assert_eq!(changed.len(), 1, "{} is one knob away", model.name),
            // Each value breaks nothing, or only beside a knob this model leaves
            // otherwise (a stub session end beside a stub NSPv2Startup).
            None => assert!(
                changed.iter().all(|(knob, value)| {
                    knob.breaks(model.kind, *value).is_none()
                        || knobs::OnlyWith::of(knob, *value)
                            .is_some_and(|o| o.excused(&model.behaviour))
                }),
                "{}",
                model.name
            ),
        }
    }
}

#[test]
fn names_are_unique_per_kind() {
    for (index, model) in MODELS.iter().enumerate() {
        assert!(
            MODELS[..index]
                .iter()
                .all(|m| (m.kind, m.name) != (model.kind, model.name)),
            "{:?} {} twice",
            model.kind,
            model.name
        );
    }
}

#[test]
fn each_kind_has_its_conforming_model_first() {
    for kind in [Transport, SanKind, Namespace] {
        let first = MODELS.iter().find(|m| m.kind == kind).expect("a model");
        assert_eq!(first.name, "conforming");
        assert_eq!(first.behaviour, Behaviour::CONFORMING);
    }
}
