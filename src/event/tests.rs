use std::hash::BuildHasher;

use super::*;

/// A set of routines lists, shows, hashes and serialises as the list of its entries
/// in table order, as the `Vec` it replaced did.
#[test]
fn a_routine_set_is_its_list() {
    use NspV2Routine as R;
    let list = vec![R::NSPv2Cleanup, R::NSPv2ClientSessionRundown];
    let set = Routines::default()
        .with(R::NSPv2ClientSessionRundown)
        .with(R::NSPv2Cleanup);
    assert_eq!(set.iter().collect::<Vec<_>>(), list);
    assert!(set.contains(R::NSPv2Cleanup) && !set.contains(R::NSPv2Startup));
    assert!(Routines::default().is_empty() && !set.is_empty());
    assert_eq!(format!("{set:?}"), format!("{list:?}"));
    let hasher = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default();
    assert_eq!(hasher.hash_one(set), hasher.hash_one(&list));
    let json = serde_json::to_string(&set).expect("serialises");
    assert_eq!(json, serde_json::to_string(&list).expect("serialises"));
    // Each entry's bit is its place in the table.
    assert!(
        R::ALL
            .iter()
            .enumerate()
            .all(|(place, &r)| r as usize == place)
    );
    let all = R::ALL
        .iter()
        .fold(Routines::default(), |set, &r| set.with(r));
    assert_eq!(all.iter().collect::<Vec<_>>(), R::ALL);
}

/// `Client::FIRST..=Client::LAST` holds every client: the checkers drop a process's
/// keys by that range, and a client outside it would outlive its process there.
#[test]
fn every_client_lies_between_the_first_and_the_last() {
    let clients = [
        Client::Ws2,
        Client::Step,
        Client::Layer(0),
        Client::Layer(ProviderIx::MAX),
        Client::Switch(0),
        Client::Switch(ProviderIx::MAX),
    ];
    for client in clients {
        assert!(
            (Client::FIRST..=Client::LAST).contains(&client),
            "{client:?}"
        );
    }
}
