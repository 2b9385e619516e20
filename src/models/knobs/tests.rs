use super::*;

#[test]
fn every_knob_sets_and_reads_back_each_value() {
    for knob in KNOBS {
        assert!(knob.values().len() >= 2, "{}", knob.path);
        assert_eq!(knob.get(&Behaviour::CONFORMING), 0, "{}", knob.path);
        for index in 0..knob.values().len() {
            let mut behaviour = Behaviour::CONFORMING;
            knob.set(&mut behaviour, index);
            assert_eq!(knob.get(&behaviour), index, "{}", knob.path);
            let changed: Vec<_> = differences(&Behaviour::CONFORMING, &behaviour)
                .map(|(k, _)| k.path)
                .collect();
            let expected: &[&str] = if index == 0 { &[] } else { &[knob.path] };
            assert_eq!(changed, expected, "a knob sets only itself");
        }
    }
}

#[test]
fn paths_are_unique() {
    for (index, knob) in KNOBS.iter().enumerate() {
        assert!(
            KNOBS[..index].iter().all(|other| other.path != knob.path),
            "{} twice",
            knob.path
        );
    }
}

/// A stub NSPv2Startup is allowed alone; a stub session end only beside it (a
/// conforming NSPv2Startup keeps a block the end must free); NULL never.
#[test]
fn a_stub_breaks_the_stub_rule_only_where_a_session_keeps_a_block() {
    let startup = knob("nspv2.routines.startup").expect("a knob");
    assert_eq!(startup.breaks(Namespace, 1), None);
    assert_eq!(startup.breaks(Namespace, 2), Some(C::Nspv2OptionalStub));
    for path in ["nspv2.routines.cleanup", "nspv2.routines.rundown"] {
        let end = knob(path).expect("a knob");
        assert_eq!(end.breaks(Namespace, 1), Some(C::Nspv2OptionalStub));
        assert_eq!(end.breaks(Namespace, 2), Some(C::Nspv2OptionalStub));
        let proviso = OnlyWith::of(end, 1).expect("a proviso");
        assert!(!proviso.excused(&Behaviour::CONFORMING));
        let mut minimal = Behaviour::CONFORMING;
        startup.set(&mut minimal, 1);
        assert!(proviso.excused(&minimal));
        assert!(OnlyWith::of(end, 2).is_none(), "NULL is never excused");
    }
}

/// Every proviso and second contract names a knob, a value of it and (for a
/// proviso) a value of the other knob.
#[test]
fn provisos_and_second_contracts_name_real_values() {
    for o in ONLY_WITH {
        let k = knob(o.knob).expect(o.knob);
        assert!(k.values().contains(&o.value), "{}: {}", o.knob, o.value);
        let other = knob(o.other).expect(o.other);
        assert!(other.values().contains(&o.other_value), "{}", o.other);
    }
    for a in ALSO {
        let k = knob(a.knob).expect(a.knob);
        assert!(k.values().contains(&a.value), "{}: {}", a.knob, a.value);
        assert!(a.kinds.iter().all(|kind| k.applies_to(*kind)), "{}", a.knob);
    }
}
