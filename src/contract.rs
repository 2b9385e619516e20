//! The contract table: every rule the oracle checks, the seed document
//! it comes from, and the errata a reader of that document should know about.

use serde::Serialize;

/// The five seed documents: Microsoft's pages for the five clean-up routines, numbered
/// 000 to 004 in this project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Seed {
    /// 000: LPNSPV2CLEANUP.
    NspV2Cleanup,
    /// 001: LPNSPV2CLIENTSESSIONRUNDOWN.
    NspV2ClientSessionRundown,
    /// 002: LPNSPCLEANUP.
    NspCleanup,
    /// 003: LPWSPCLEANUP (transport providers).
    WspCleanup,
    /// 004: WSPCleanup for SAN service providers.
    SanWspCleanup,
}

impl Seed {
    /// Where the document is published.
    pub fn page(self) -> &'static str {
        match self {
            Seed::NspV2Cleanup => {
                "https://learn.microsoft.com/en-us/windows/win32/api/ws2spi/nc-ws2spi-lpnspv2cleanup"
            }
            Seed::NspV2ClientSessionRundown => {
                "https://learn.microsoft.com/en-us/windows/win32/api/ws2spi/nc-ws2spi-lpnspv2clientsessionrundown"
            }
            Seed::NspCleanup => {
                "https://learn.microsoft.com/en-us/windows/win32/api/ws2spi/nc-ws2spi-lpnspcleanup"
            }
            Seed::WspCleanup => {
                "https://learn.microsoft.com/en-us/windows/win32/api/ws2spi/nc-ws2spi-lpwspcleanup"
            }
            Seed::SanWspCleanup => {
                "https://learn.microsoft.com/en-us/previous-versions/windows/hardware/network/ff566270(v=vs.85)"
            }
        }
    }

    pub const ALL: [Seed; 5] = [
        Seed::NspV2Cleanup,
        Seed::NspV2ClientSessionRundown,
        Seed::NspCleanup,
        Seed::WspCleanup,
        Seed::SanWspCleanup,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Seed::NspV2Cleanup => "LPNSPV2CLEANUP callback function (ws2spi.h)",
            Seed::NspV2ClientSessionRundown => "LPNSPV2CLIENTSESSIONRUNDOWN callback function",
            Seed::NspCleanup => "LPNSPCLEANUP callback function",
            Seed::WspCleanup => "LPWSPCLEANUP callback function (ws2spi.h)",
            Seed::SanWspCleanup => "WSPCleanup function",
        }
    }

    /// The title where a list names the pages unquoted: 004's own title does not say
    /// it is the SAN provider's routine, so the list does.
    pub fn listed(self) -> String {
        match self {
            Seed::SanWspCleanup => format!("{} (SAN service provider)", self.title()),
            _ => self.title().to_string(),
        }
    }

    /// The title between `quotes`, as a message cites the page, and what 004's title
    /// leaves unsaid after them.
    pub fn cited(self, (open, close): (char, char)) -> String {
        match self {
            Seed::SanWspCleanup => format!("{open}{}{close} (SAN service provider)", self.title()),
            _ => format!("{open}{}{close}", self.title()),
        }
    }

    /// The short number the docs use ("003").
    pub fn number(self) -> &'static str {
        match self {
            Seed::NspV2Cleanup => "000",
            Seed::NspV2ClientSessionRundown => "001",
            Seed::NspCleanup => "002",
            Seed::WspCleanup => "003",
            Seed::SanWspCleanup => "004",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Contract {
    pub id: ContractId,
    pub rule: &'static str,
    pub seeds: &'static [Seed],
    /// The sentence of the seed the rule rests on (paraphrase where marked).
    pub source: &'static str,
    /// Where ws2sim decides what the seeds leave open.
    pub model_choice: Option<&'static str>,
    /// Mistakes in the seed documents a reader should know about.
    pub errata: &'static [&'static str],
}

/// A contract of the table, by name: the oracle's checkers, the knob table and the
/// mutants refer to contracts through it, so a misspelt id does not compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContractId {
    SpiReturnConvention,
    WspCleanupRefcount,
    WspCleanupNotInitialised,
    WspCleanupCancelSilently,
    WspCleanupOverlappedAborted,
    WspCleanupSocketsReset,
    WspCleanupLingeringDataSent,
    WspCleanupUnloadReady,
    WspCrashTolerant,
    WspCleanupRestartable,
    SanCleanupRefcount,
    SanCleanupCompleteViaUpcall,
    SanCleanupFreeBeforeComplete,
    SanCleanupNoNotifications,
    SanCleanupNoEinval,
    NspCleanupRefcount,
    NspCleanupInvalidProvider,
    NspCleanupUnloadReady,
    Nspv2SessionSameArg,
    Nspv2SessionStartupFirst,
    Nspv2SessionEndsOnce,
    Nspv2OptionalStub,
    Nspv2OsNamespace,
    LspLowerBalanced,
    LoaderNoCodeAfterUnload,
    LoaderNoWaitUnderLoaderLock,
    Ws2Balanced,
}

impl ContractId {
    /// Every contract, in the table's order.
    pub const ALL: [ContractId; 27] = [
        ContractId::SpiReturnConvention,
        ContractId::WspCleanupRefcount,
        ContractId::WspCleanupNotInitialised,
        ContractId::WspCleanupCancelSilently,
        ContractId::WspCleanupOverlappedAborted,
        ContractId::WspCleanupSocketsReset,
        ContractId::WspCleanupLingeringDataSent,
        ContractId::WspCleanupUnloadReady,
        ContractId::WspCrashTolerant,
        ContractId::WspCleanupRestartable,
        ContractId::SanCleanupRefcount,
        ContractId::SanCleanupCompleteViaUpcall,
        ContractId::SanCleanupFreeBeforeComplete,
        ContractId::SanCleanupNoNotifications,
        ContractId::SanCleanupNoEinval,
        ContractId::NspCleanupRefcount,
        ContractId::NspCleanupInvalidProvider,
        ContractId::NspCleanupUnloadReady,
        ContractId::Nspv2SessionSameArg,
        ContractId::Nspv2SessionStartupFirst,
        ContractId::Nspv2SessionEndsOnce,
        ContractId::Nspv2OptionalStub,
        ContractId::Nspv2OsNamespace,
        ContractId::LspLowerBalanced,
        ContractId::LoaderNoCodeAfterUnload,
        ContractId::LoaderNoWaitUnderLoaderLock,
        ContractId::Ws2Balanced,
    ];

    /// The id as users write it (`wsp.cleanup.refcount`).
    pub fn as_str(self) -> &'static str {
        match self {
            ContractId::SpiReturnConvention => "spi.return_convention",
            ContractId::WspCleanupRefcount => "wsp.cleanup.refcount",
            ContractId::WspCleanupNotInitialised => "wsp.cleanup.not_initialised",
            ContractId::WspCleanupCancelSilently => "wsp.cleanup.cancel_silently",
            ContractId::WspCleanupOverlappedAborted => "wsp.cleanup.overlapped_aborted",
            ContractId::WspCleanupSocketsReset => "wsp.cleanup.sockets_reset",
            ContractId::WspCleanupLingeringDataSent => "wsp.cleanup.lingering_data_sent",
            ContractId::WspCleanupUnloadReady => "wsp.cleanup.unload_ready",
            ContractId::WspCrashTolerant => "wsp.crash_tolerant",
            ContractId::WspCleanupRestartable => "wsp.cleanup.restartable",
            ContractId::SanCleanupRefcount => "san.cleanup.refcount",
            ContractId::SanCleanupCompleteViaUpcall => "san.cleanup.complete_via_upcall",
            ContractId::SanCleanupFreeBeforeComplete => "san.cleanup.free_before_complete",
            ContractId::SanCleanupNoNotifications => "san.cleanup.no_notifications",
            ContractId::SanCleanupNoEinval => "san.cleanup.no_einval",
            ContractId::NspCleanupRefcount => "nsp.cleanup.refcount",
            ContractId::NspCleanupInvalidProvider => "nsp.cleanup.invalid_provider",
            ContractId::NspCleanupUnloadReady => "nsp.cleanup.unload_ready",
            ContractId::Nspv2SessionSameArg => "nspv2.session.same_arg",
            ContractId::Nspv2SessionStartupFirst => "nspv2.session.startup_first",
            ContractId::Nspv2SessionEndsOnce => "nspv2.session.ends_once",
            ContractId::Nspv2OptionalStub => "nspv2.optional_stub",
            ContractId::Nspv2OsNamespace => "nspv2.os_namespace",
            ContractId::LspLowerBalanced => "lsp.lower_balanced",
            ContractId::LoaderNoCodeAfterUnload => "loader.no_code_after_unload",
            ContractId::LoaderNoWaitUnderLoaderLock => "loader.no_wait_under_loader_lock",
            ContractId::Ws2Balanced => "ws2.balanced",
        }
    }

    pub fn parse(id: &str) -> Option<ContractId> {
        ContractId::ALL.into_iter().find(|c| c.as_str() == id)
    }

    /// The contract's row of [`CONTRACTS`].
    pub fn contract(self) -> &'static Contract {
        &CONTRACTS[self as usize]
    }
}

impl std::fmt::Display for ContractId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for ContractId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

use Seed::*;

pub const CONTRACTS: &[Contract] = &[
    Contract {
        id: ContractId::SpiReturnConvention,
        rule: "Success returns NO_ERROR (0); failure returns SOCKET_ERROR (-1) and sets an error code the function's page lists (004 requires it; for the others a reading, below): through lpErrno for WSP calls, through WSASetLastError for NSP calls. WSPStartup and WSPStartupEx, which have no lpErrno, return the documented code itself (model choice).",
        seeds: &[
            NspV2Cleanup,
            NspV2ClientSessionRundown,
            NspCleanup,
            WspCleanup,
            SanWspCleanup,
        ],
        source: "003: \"The return value is zero if the operation has been successfully initiated. Otherwise, the value SOCKET_ERROR is returned, and a specific error number is available in lpErrno.\"; 004: \"Returns zero if successful; otherwise, returns SOCKET_ERROR and, in lpErrno, one of the following error codes\"; 002: \"Otherwise, SOCKET_ERROR (–1) is returned and the provider must set the appropriate error code using WSASetLastError.\"; 000 and 001: \"It should return SOCKET_ERROR ... if the routine fails and it must set the appropriate error code using WSASetLastError.\"",
        model_choice: Some(
            "The seeds document the convention for the clean-up routines (WSPCleanup, NSPCleanup, NSPv2Cleanup, NSPv2ClientSessionRundown). ws2sim holds every SPI routine it models to its own page's convention: NSPStartup, NSPv2Startup, the socket calls and the lookups to this one; WSPStartup and WSPStartupEx, which have no lpErrno, to theirs, returning the error code itself (WSPStartup's page: \"returns one of the error codes listed below\"; WSPStartupEx's: \"returns one of the following error codes\"); each with the error codes Microsoft's page for it lists (004 closes its list, \"one of the following error codes\"; the other four seeds say \"the appropriate error code\" or \"a specific error number\" and do not call their tables complete, so holding those routines to their tables is ws2sim's reading; WSPConnect and WSPAccept stand in for the overlapped ConnectEx and AcceptEx, and answer WSA_IO_PENDING and WSA_OPERATION_ABORTED as those do, which their own pages do not list), and WSA_NOT_ENOUGH_MEMORY from a WSPStartup or WSPStartupEx whose own allocation a `FailAlloc` fault failed.",
        ),
        errata: &[
            "000 prints SOCKET_ERROR as \"1\" (\"that is, 1\"): the minus sign is missing; the value is -1, as 002 prints it (001's is garbled another way, below).",
            "003's error table has a third row whose meaning is a namespace provider's (\"Provider identifier given to the name-space provider is not managed by the name-space provider\"), out of place on a transport page. Microsoft's page names it WSAEINVAL; its wording is not 002's (\"The lpProviderId parameter does not specify a valid provider.\"). ws2sim keeps WSAEINVAL among the codes a transport provider's WSPCleanup may fail with (spi.return_convention), so it accepts it only from a WSPCleanup that has a WSPStartup of its process behind it (which no built-in model fails; provider code written in Rust may): with none behind it, 003's first row decides, and anything but WSANOTINITIALISED is wsp.cleanup.not_initialised's. A SAN provider's WSAEINVAL is refused everywhere (004), under san.cleanup.no_einval.",
            "001 prints SOCKET_ERROR as \"(â€“1)\": an en dash stored as UTF-8 and shown as Windows-1252; the value is -1.",
            "003 says zero is returned \"if the operation has been successfully initiated\", the wording of an asynchronous call: WSPCleanup has finished when it returns.",
            "WSAEACCES: 000 says the caller lacks the privileges to \"initialize\" the service, 001 to \"install\" it; one code, worded two ways.",
            "001: the SDK header declares NSPv2ClientSessionRundown as returning VOID, while the page documents NO_ERROR / SOCKET_ERROR; ws2sim checks the page's convention.",
            "003's and 000's error tables, as stored, give each row's meaning without the name of its code; ws2sim names each as Microsoft's published page does (003: WSANOTINITIALISED, WSAENETDOWN, WSAEINVAL; 000: WSA_NOT_ENOUGH_MEMORY, WSAEACCES, WSAEINVAL, WSAEOPNOTSUPP, WSASERVICE_NOT_FOUND), and where its texts say such a seed documents a code, it documents the code's meaning.",
        ],
    },
    Contract {
        id: ContractId::WspCleanupRefcount,
        rule: "N successful WSPStartup calls need N WSPCleanup calls (003: \"For each WSPStartup call\"; that a failed one needs none is ws2sim's reading); only the last does the actual cleanup (releases the provider's resources for the client); earlier ones only decrement. The client's half (ws2sim's reading of 003's \"required to perform a successful WSPStartup call\"): a direct SPI client makes a WSPCleanup only for a WSPStartup of its own, never one that counts down another client's start-up.",
        seeds: &[WspCleanup],
        source: "003: \"The Windows Sockets 2 SPI client is required to perform a successful WSPStartup call before it can use Winsock service providers. [...] Only the final LPWSPCleanup for the service provider does the actual cleanup; the preceding calls simply decrement an internal reference count in the Winsock service provider.\"",
        model_choice: Some(
            "Calls that overlap are matched in the order they return: a WSPCleanup is the final one when its return leaves no successful WSPStartup of the process unmatched, and a WSPCleanup still under way has matched nothing yet. A provider that lets a start-up in while its final clean-up runs (a racy count) is therefore flagged at the clean-up that returns while the other is still under way; where the clean-up returns first, the start-up that returns after it with no other outstanding starts the provider afresh and must leave the instance set up as the pair's earlier fresh starts did, and one that returns with none of it set up, although it counted itself started, is flagged at its return. The opposite error is flagged too, whether or not a clean-up follows: a second start-up that sets the instance up in its process (its thread takes instance memory during the call) since the process's start-ups were last all cleaned up, or a clean-up that said it did the actual clean-up (two start-ups that both found the count at 0), at the first such return; one made while a clean-up of the provider is at work there (its thread has made an event since the call other than a wait for the provider's lock) is judged once no clean-up is under way, and is excused if one of them said it did the actual clean-up (it may have torn the count down to 0 first), or if none ever returns. A direct WSPCleanup (a `Spi` step) with nothing at all started in the process is not the caller's error here: seed 003 documents the provider's answer to it (`wsp.cleanup.not_initialised`). A WSPCleanup its process's end, or the run's (a deadlock, a budget, a provider's panic), cuts short after it began to act, while start-ups would still be outstanding had every clean-up at work in the process counted down, is judged for what it did before the end: releasing what the provider holds, resetting a socket, posting a notification, cancelling a pending operation, having its switch clean up a SAN provider, or stopping its worker and waiting for it is the actual clean-up, which it may not do (the last three are not counted where a start-up of the provider returned while it ran: that start-up may be what made it not the final one). One cut short while every start-up outstanding would have been counted down had the other clean-ups at work counted down first (a racy count lets two run at once) may be the final one, and is held to the final clean-up's rules for what it did.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::WspCleanupNotInitialised,
        rule: "WSPCleanup with no outstanding successful WSPStartup (WSPStartupEx for SAN) fails with WSANOTINITIALISED. A SAN provider that answers WSAEINVAL there is reported once, under san.cleanup.no_einval.",
        seeds: &[WspCleanup, SanWspCleanup],
        source: "003: \"A successful WSPStartup call must occur before using this function.\" 004: \"Successful WSPStartupEx call did not occur before the WSPCleanup call.\"",
        model_choice: Some(
            "A WSPCleanup after every start-up of its process has been cleaned up is read as one that no WSPStartup preceded: the start-ups it could match are spent. 003's table, as stored, gives this row's meaning without the name of its code: WSANOTINITIALISED is the name Microsoft's published page gives it, and the code 004 lists for the same case. 003's table lists WSAEINVAL too, with a namespace provider's meaning (an erratum, `ws2sim explain spi.return_convention`): nothing on the page ties it to a WSPCleanup with no WSPStartup behind it, so there the row that names that case decides, for a transport provider as for a SAN one. A WSPCleanup that returns while a WSPStartup of its process is still under way is not judged here: the seeds say nothing of calls that overlap, and a provider may count a start-up as it begins, so the clean-up may find it counted.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::WspCleanupCancelSilently,
        rule: "When the actual cleanup begins (at the final cleanup, or wherever a provider whose count is wrong does it), pending blocking and asynchronous calls of every thread of the process are cancelled without posting notification messages and without signalling event objects.",
        seeds: &[WspCleanup],
        source: "003: \"any pending blocking or asynchronous calls issued by any thread in this process are canceled without posting any notification messages or signaling any event objects.\"",
        model_choice: Some(
            "A cancelled blocking call returns SOCKET_ERROR with WSAEINTR, as a blocking call cancelled by WSACancelBlockingCall does; the seed names no code. A WSAAsyncSelect or WSAEventSelect registration still in force is read as a pending asynchronous call: the final cleanup ends it with no message posted and no event set for it. A WSPCleanup that never returns because its process ended (a crash, an ExitProcess), or because the run stopped (a deadlock, a budget, a provider's panic), is judged for what it did before the end, here, in wsp.cleanup.overlapped_aborted, san.cleanup.complete_via_upcall and san.cleanup.no_notifications: it was the final one when one start-up of the provider was outstanding in the process and no other start-up or clean-up of it there was at work. A call is not at work until its thread makes an event other than a wait for the provider's lock; a clean-up not at work itself is not judged. One that was not the final one but did the actual clean-up before the end (it freed the provider's state, cancelled a pending operation, had its switch clean up a SAN provider, or stopped its worker and waited for it) is judged the same way, beside `wsp.cleanup.refcount`.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::WspCleanupOverlappedAborted,
        rule: "When the actual cleanup begins (at the final cleanup, or wherever a provider whose count is wrong does it), pending overlapped operations (sends and receives; connects and accepts as a model choice) fail with WSA_OPERATION_ABORTED; their event is not set and their completion routine is not invoked.",
        seeds: &[WspCleanup],
        source: "003: \"canceled without setting the event object or invoking the completion routine, if specified. In this case, the pending overlapped operations fail with the error status WSA_OPERATION_ABORTED.\"",
        model_choice: Some(
            "An operation whose notification is an I/O completion port gets no packet either: the seed names events and routines, and a port packet is the same kind of notification. Overlapped connects and accepts, which the seed does not name (it names sends and receives), are held to the same: WSA_OPERATION_ABORTED, no notification.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::WspCleanupSocketsReset,
        rule: "Sockets still open at the final cleanup (or at one in which a provider whose count is wrong does the actual cleanup) are reset and freed as if WSPCloseSocket were called; their handles are invalid afterwards (WSAENOTSOCK: ws2sim's reading, see the model choice).",
        seeds: &[WspCleanup, SanWspCleanup],
        source: "003: \"Any sockets open when LPWSPCleanup is called are reset and automatically deallocated as if LPWSPCloseSocket was called\" 004: \"Any sockets that are open during a final WSPCleanup call are reset and automatically released as if the WSPCloseSocket function was called.\"",
        model_choice: Some(
            "\"When LPWSPCleanup is called\" is read as the final call, as 004 words it (\"during a final WSPCleanup call\"), or one in which a provider whose count is wrong does the actual cleanup: a WSPCleanup that only counts down resets nothing. That a reset socket's handle then gets WSAENOTSOCK (the code a closed socket's calls get) is ws2sim's reading. \"Reset\" is read as an abortive close: a socket still open at the final clean-up loses the data still queued on it, as a closesocket with a zero linger time would drop it. A socket the application closed gracefully before keeps its queued data (`wsp.cleanup.lingering_data_sent`). 003 also asks that \"any data remaining to be transmitted\" be sent, or queued in a part of the stack that stays loaded, before WSPCleanup returns; ws2sim applies that sentence only to sockets the application had closed gracefully before; data still queued on a socket open at the final WSPCleanup is dropped by the reset. The page's two sentences leave room for the other reading (an open socket's data sent too), and a provider that sends that data is not flagged either. A socket open when the final clean-up is called is its to reset, and so is one the provider makes while it is under way (before it does its work); a socket whose WSPCloseSocket was called, but which the close had not yet freed, is still open: a close acts when it frees the socket.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::WspCleanupLingeringDataSent,
        rule: "Sockets already closed with data still queued are not affected by the cleanup: that data is still sent.",
        seeds: &[WspCleanup],
        source: "003: \"sockets that have been closed with LPWSPCloseSocket but still have pending data to be sent are not affected, but the pending data is still sent.\"",
        model_choice: None,
        errata: &[],
    },
    Contract {
        id: ContractId::WspCleanupUnloadReady,
        rule: "The final WSPCleanup (or one in which a provider whose count is wrong does the actual cleanup) does not return until the DLL can be unloaded: no worker thread of the provider is left running, and no callback it queued to the thread pool is left to run. 003 also asks that data remaining to be transmitted be sent, or queued in a part of the stack that stays loaded, first: ws2sim checks that for sockets closed gracefully, under wsp.cleanup.lingering_data_sent (model choice of wsp.cleanup.sockets_reset).",
        seeds: &[WspCleanup],
        source: "003: \"This function should not return until the service provider DLL is prepared to be unloaded from memory.\"",
        model_choice: Some(
            "Seed 004 says nothing of unloading a SAN provider: ws2sim holds a SAN provider's final WSPCleanup to the same rule (its worker thread gone before it returns), since its DLL is unloaded like any other provider's. An actual clean-up made while start-ups are still outstanding (a wrong count) answers for the worker threads and callbacks there when it began to act (its first event after its call other than a wait for the provider's lock), not for those a start-up began after that.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::WspCrashTolerant,
        rule: "A process that ends without WSPCleanup must not break the provider for other processes nor leak the provider's machine-wide state.",
        seeds: &[WspCleanup],
        source: "003: \"A Winsock service provider must be prepared to deal with a process that terminates without invoking LPWSPCleanup\"",
        model_choice: Some(
            "\"Prepared to deal with\" is read as: the process's end breaks nothing for the live processes, and what the provider keeps machine-wide for it does not outlive them. Machine-wide state is whatever a provider keeps outside the process (shared memory, a registration with its driver); it must be back to what the live processes account for once the others are gone.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::WspCleanupRestartable,
        rule: "After the final cleanup (or one in which a provider whose count is wrong does the actual cleanup), WSPStartup (WSPStartupEx for SAN) can be called again at once and works like a fresh start.",
        seeds: &[WspCleanup, SanWspCleanup],
        source: "003: \"A Winsock service provider must ensure that LPWSPCleanup leaves things in a state in which the Ws2_32.dll can immediately invoke WSPStartup to reestablish Winsock usage.\" 004: \"A SAN service provider must ensure that its WSPCleanup function leaves the operating environment in a state in which the switch can immediately call the SAN service provider's WSPStartupEx function to reestablish usage.\"",
        model_choice: Some(
            "A WSPStartup called while the final clean-up was still under way, which waited for it (the provider's lock) and ran after it, is a restart: what counts is that it returned after the clean-up did.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::SanCleanupRefcount,
        rule: "N successful WSPStartupEx calls from the switch need N WSPCleanup calls (004: \"For each WSPStartupEx call\"; that a failed one needs none is ws2sim's reading); the SAN provider counts its open instances and only the last WSPCleanup does the actual cleanup. The client's half: a direct SPI client playing the switch makes a WSPCleanup only for a WSPStartupEx of its own, never one that counts down the switch's.",
        seeds: &[SanWspCleanup],
        source: "004: \"For each WSPStartupEx call, the switch must issue a corresponding WSPCleanup call. The SAN service provider must keep an internal reference count of the number of its open instances. [...] Only the final WSPCleanup call does the actual cleanup\"",
        model_choice: Some(
            "Calls that overlap are matched as `wsp.cleanup.refcount` says, a WSPStartupEx that starts the provider afresh leaving its instance set up as there, and two that set it up twice flagged as there. A direct WSPCleanup (a `Spi` step) with nothing at all started in the process is not the caller's error here: seed 004 documents the provider's answer to it (`wsp.cleanup.not_initialised`).",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::SanCleanupCompleteViaUpcall,
        rule: "During the actual cleanup (the final one, or wherever a provider whose count is wrong does it), each pending operation is completed through WPUCompleteOverlappedRequest with WSA_OPERATION_ABORTED.",
        seeds: &[SanWspCleanup],
        source: "004: \"A SAN service provider calls the WPUCompleteOverlappedRequest function to complete the overlapped operation [...] and also passes the WSA_OPERATION_ABORTED error code\"",
        model_choice: Some(
            "The switch passes every call it forwards to a SAN provider as an overlapped request of its own (004: \"a pending call that the switch initiated or forwarded\"), so each pending call, a blocking one too, is completed through WPUCompleteOverlappedRequest; the client is then told as it asked: its event set, its completion port posted, its blocked thread released, or its completion routine run. The SDK page of WPUCompleteOverlappedRequest, which 004 points to, says the upcall itself signals an event or posts to a port and never queues an APC: a completion routine is the switch's to run once the upcall has completed its request, and the trace shows it inside the upcall's completion, as part of what the upcall brings about. Where the two seeds meet, this departs from 003: to the application these are operations on the TCP provider's sockets, which 003 has the TCP provider's final WSPCleanup cancel without setting the event or running the routine; ws2sim follows 004 for every call the switch forwarded, and 003 for the TCP provider's own. 004 gives its way to cancel a forwarded call right after \"Only the final WSPCleanup call does the actual cleanup\"; ws2sim extends it to an earlier WSPCleanup, to its return or to where its process's end or the run's cuts it short, so a provider that cancels one there (a defect of its count already) is held to it too.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::SanCleanupFreeBeforeComplete,
        rule: "The memory tied to an operation is released before that operation is completed.",
        seeds: &[SanWspCleanup],
        source: "004: \"Before calling the WPUCompleteOverlappedRequest function to cancel an overlapped operation, the SAN service provider should release any memory associated with that operation.\"",
        model_choice: Some(
            "The seed asks this of an operation cancelled by the final WSPCleanup, with a \"should\"; ws2sim holds a provider to it as to a rule, and asks it of every completion of a SAN operation (a normal one, an abort by closesocket), since memory released after the completion is in use when its caller already owns the result.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::SanCleanupNoNotifications,
        rule: "During cleanup no network-event notification (FD_ACCEPT, FD_CONNECT, ...) is posted: the provider does not signal the event object the switch gave it with WSPEventSelect, nor post a window message.",
        seeds: &[SanWspCleanup],
        source: "004: \"During cleanup, the SAN service provider does not signal event objects to post notification messages.\"",
        model_choice: Some(
            "The seed's examples are network events (FD_ACCEPT, FD_CONNECT), and the same page has every pending call completed through WPUCompleteOverlappedRequest, which, its SDK page says, signals the overlapped operation's event: ws2sim reads \"event objects\" here as the one the switch gives the provider with WSPEventSelect for network events (the switch asks for FD_ACCEPT and FD_CONNECT only), so the upcall's completion, event included, is not such a notification. Contrast wsp.cleanup.overlapped_aborted, where a transport provider sets no event at all. ws2sim judges the actual cleanup (the final one, or wherever a provider whose count is wrong does it), whichever of the process's threads the notification comes from, and, as for san.cleanup.complete_via_upcall, an earlier WSPCleanup too, for what its own thread posts up to its return or to where its process's end or the run's cuts it short: one that cancels what is pending there (a defect of its count already) is cleaning up all the same.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::SanCleanupNoEinval,
        rule: "A SAN provider's WSPCleanup never returns WSAEINVAL (only WSANOTINITIALISED or WSAENETDOWN).",
        seeds: &[SanWspCleanup],
        source: "004: \"Note that a SAN service provider does not support the WSAEINVAL error code for WSPCleanup.\"",
        model_choice: None,
        errata: &[
            "003's error table has a row Microsoft's page names WSAEINVAL for a transport provider's WSPCleanup (with a namespace provider's wording); 004 rules it out for SAN providers. ws2sim applies each list to its kind: a transport provider may fail a WSPCleanup that has a WSPStartup behind it with WSAEINVAL, never one with none behind it (WSANOTINITIALISED, wsp.cleanup.not_initialised); a SAN provider never.",
        ],
    },
    Contract {
        id: ContractId::NspCleanupRefcount,
        rule: "N successful NSPStartup calls need N NSPCleanup calls (002: \"for each NSPStartup call\"; that a failed one needs none is ws2sim's reading); only the last deregisters the provider and frees what it allocated; earlier ones only decrement. A client's NSPCleanup of the provider's own id with no successful NSPStartup of its own left to match is the client's error (ws2sim's reading: 002 asks an NSPCleanup for each NSPStartup).",
        seeds: &[NspCleanup],
        source: "002: \"It is permissible to make more than one NSPStartup call. However, for each NSPStartup call, a corresponding NSPCleanup call must also be issued. Only the final NSPCleanup for the service provider does the actual cleanup; the preceding calls decrement an internal reference count in the service provider.\"",
        model_choice: Some(
            "ws2_32 starts each version-1 provider of a namespace once per process, lazily, at the first Lookup there (NSPStartup with the provider's id and an NSP_ROUTINE table), and calls NSPCleanup at the process's final WSACleanup, after the transport providers. The seed names no code for an NSPCleanup with nothing started; the conforming model fails it with WSAEINVAL, the closest code the page lists (002 gives it for an lpProviderId that names no valid provider). The provider cannot tell its clients apart: an NSPCleanup that takes another client's start-up counts down (the caller is flagged). A client is ws2_32, a layer, or a process's direct SPI calls (`Spi` steps) taken together. An NSPCleanup with another provider's id matches no start-up, whether the caller has one or not: what the provider answers to it is judged by `nsp.cleanup.invalid_provider`. An NSPStartup that succeeds with no other start outstanding in its process starts the provider afresh and must leave its state set up as the pair's earlier fresh starts did: one that returns with none of it set up, although it counted itself started (a racy count whose update an actual cleanup took), is flagged at its return; one that returns with the state set up twice since the process's start-ups were last all cleaned up is flagged as `wsp.cleanup.refcount` says. An NSPCleanup its process's end, or the run's (a deadlock, a budget, a provider's panic), cuts short, while starts would still be outstanding had every end at work in the process counted down (one is not at work, and counts nothing, until its thread makes an event other than a wait for the provider's lock; one with another provider's id counts nothing down), is judged for what it began: freeing the provider's state, or stopping its worker thread and waiting for it, is the actual cleanup, which it may not do.",
        ),
        errata: &[
            "002 says NSPCleanup lets \"the transport service provider\" free the namespace provider's resources: the namespace provider itself is meant.",
        ],
    },
    Contract {
        id: ContractId::NspCleanupInvalidProvider,
        rule: "NSPCleanup with a provider id that does not specify a valid provider (not the provider's own) fails with SOCKET_ERROR and WSAEINVAL (set through WSASetLastError), or with WSAEOPNOTSUPP, the answer of a provider that does not implement NSPCleanup (002: \"This error is returned if the namespace provider does not implement this function\"), which `nsp.cleanup.unload_ready` holds to keeping nothing in the process.",
        seeds: &[NspCleanup],
        source: "002, for WSAEINVAL: \"The lpProviderId parameter does not specify a valid provider.\"",
        model_choice: Some(
            "002 gives WSAEINVAL for an lpProviderId that \"does not specify a valid provider\" and does not say which ids are valid: ws2sim reads another provider's id, though valid in the catalog, as no valid provider for this one, since an NSPCleanup cleans up only the provider called. ws2_32 always passes the provider's own id; a scenario tries another one with `Spi(provider: ..., call: NSPCleanup(provider_id: Other))`.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::NspCleanupUnloadReady,
        rule: "The final NSPCleanup (or one in which a provider whose count is wrong does the actual cleanup) does not return until the DLL can be unloaded: no worker thread the provider started and no callback it queued to the thread pool is left to run.",
        seeds: &[NspCleanup],
        source: "002: \"This function should not return until the namespace service provider DLL can be unloaded from memory.\"",
        model_choice: Some(
            "The version-1 models keep a cache thread (`<provider>.worker`), which the last NSPCleanup must stop and wait for. 002 lets a provider that does not implement NSPCleanup answer WSAEOPNOTSUPP; ws2sim reads that as open only to a provider that keeps nothing in the process: one that holds memory or a thread there must implement NSPCleanup to free it, so a stub answering while the provider still holds its instance memory is flagged here. An application thread still inside one of the provider's lookup routines is not the provider's to wait for: its routine fails once the state is freed (a Next the clean-up overtook with WSA_E_CANCELLED), and ws2_32 keeps the DLL loaded until that API call returns (model choice \"API calls racing the final WSACleanup\"). An NSPCleanup that does the actual clean-up with start-ups still outstanding answers for the cache thread there when it began to act, not for one a start-up began after that.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::Nspv2SessionSameArg,
        rule: "NSPv2Cleanup and NSPv2ClientSessionRundown carry the session argument that NSPv2Startup handed back for that client.",
        seeds: &[NspV2Cleanup, NspV2ClientSessionRundown],
        source: "000: \"If a value was specified for the client session argument in the call to the NSPv2Startup function, then this same client session argument can be passed in the pvClientSessionArg parameter to the NSPv2Cleanup function\"; 001: \"then this same client session argument is passed in the pvClientSessionArg parameter to the NSPv2ClientSessionRundown function.\"",
        model_choice: Some(
            "The process that advertises a provider (WSAAdvertiseProvider) is the provider author's own service: it keeps one session per client process in its session table and makes the NSPv2 calls, so a provider model includes its host and can get this wrong. A NULL argument (from an NSPv2Startup stub) is passed on as NULL. Seed 000 says the argument \"can be passed\" to NSPv2Cleanup; ws2sim reads that as what the host does, as seed 001 says it \"is passed\" to NSPv2ClientSessionRundown: a host that passes NULL instead leaves the provider no way to find what it stored for the session.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::Nspv2SessionStartupFirst,
        rule: "NSPv2Cleanup needs an NSPv2Startup for that session before it, one that succeeded or a stub's WSAEOPNOTSUPP (model choice); the counting rule of nsp.cleanup.refcount holds per provider: only the last session end (an NSPv2Cleanup, or a rundown standing in for one: model choice) frees the provider's state.",
        seeds: &[NspV2Cleanup],
        source: "000: \"The NSPv2Startup function must be called successfully before calling the NSPv2Cleanup function. It is permissible to make more than one NSPv2Startup call. However, for each NSPv2Startup call, a corresponding NSPv2Cleanup call must also be issued. Only the final NSPv2Cleanup for the service provider does the actual cleanup\"",
        model_choice: Some(
            "An NSPv2Startup stub's WSAEOPNOTSUPP opens the session with a NULL argument (the routine is optional, 000). This departs from the letter of 000, for which only a successful NSPv2Startup comes before NSPv2Cleanup: read literally, a provider that implements NSPv2Cleanup but not NSPv2Startup would never have a session ended, which would make the start-up not optional for it. Seed 000 gives the actual cleanup to the final NSPv2Cleanup, and seed 001 says nothing of counting; but a client that ends without clean-up never sends its NSPv2Cleanup, and its session is run down instead (001: the session \"is terminating\"). The model lets that rundown stand in for the NSPv2Cleanup that will not come: it counts the provider's count down, and the last session end, cleanup or rundown, does the actual cleanup. A session run down and then cleaned up ends twice (`nspv2.session.ends_once`). An NSPv2Startup that succeeds with no other session start outstanding for the provider in its host starts the provider afresh and must leave its state set up as the host's earlier fresh starts did: one that returns with none of it set up, although it counted itself started (a racy count whose update an actual cleanup took), is flagged at its return; one that returns with the state set up twice in the host since its sessions were last all ended is flagged as `wsp.cleanup.refcount` says.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::Nspv2SessionEndsOnce,
        rule: "Every client session ends once, by NSPv2Cleanup or NSPv2ClientSessionRundown (or with its host), and its argument is not used after it ended. The seeds name the two calls that tell a provider a session ended; that a session is told only once, and when each call comes, is ws2sim's reading (model choice).",
        seeds: &[NspV2Cleanup, NspV2ClientSessionRundown],
        source: "000: \"notifies a namespace service provider version-2 (NSPv2) provider that a client session has terminated\"; 001: \"notifies a namespace service provider version-2 (NSPv2) provider that the client session is terminating.\"",
        model_choice: Some(
            "After WSAAdvertiseProvider, each client process has one session at a time, opened by NSPv2Startup in the host at its first lookup (again after a final WSACleanup ended the last one: seed 000 says NSPv2Startup \"is called each time a new client process begins using namespace provider\", and ws2sim reads a process that starts Winsock again as beginning anew). Its final WSACleanup ends it with NSPv2Cleanup; a client that ends without that (its threads return, ExitProcess, TerminateProcess) is run down with NSPv2ClientSessionRundown; WSAUnadvertiseProvider (or the host's final WSACleanup) runs down the sessions left; a host that ends takes its sessions with it, with no call, and clients' lookups then fail with WSASERVICE_NOT_FOUND (a WSALookupServiceEnd of a lookup it served with WSA_INVALID_HANDLE, its handle gone with the session). A session still open when its host ends that the host no longer held (it stopped serving the provider without running the session down) never ended, and is flagged at the host's end. A host that outlives a client by a tick must have run its session down. Neither seed says a session cannot be told of its end twice, nor that a withdrawal runs sessions down: ws2sim holds that a session ends once because NSPv2Cleanup lets the provider \"free any of namespace provider resources that were allocated for the client session\" (000), after which a second end would hand it an argument it may have freed. An end that passes another argument than the ended session's (a `Spi` step with no start of its own outstanding passes NULL) ends no session: an NSPv2Cleanup is then judged by `nspv2.session.startup_first`, whether or not the DLL stayed loaded since the session before ended, and a rundown here as one of a session never opened.",
        ),
        errata: &[
            "001's metadata gives `req.typenames: SOCKADDR_INET, *PSOCKADDR_INET`, a structure the callback does not use.",
        ],
    },
    Contract {
        id: ContractId::Nspv2OptionalStub,
        rule: "NSPv2Startup, NSPv2Cleanup and NSPv2ClientSessionRundown are optional: an unimplemented one is reached through a stub that returns WSAEOPNOTSUPP, never through a NULL entry of the NSPV2_ROUTINE table, and only a provider that does not need it leaves one out (a session end answered WSAEOPNOTSUPP leaves no block of that session behind). The three lookup routines are required (Microsoft's WSAAdvertiseProvider page, not the seeds: model choice).",
        seeds: &[NspV2Cleanup, NspV2ClientSessionRundown],
        source: "000 (and 001 for NSPv2ClientSessionRundown): \"If the NSPv2Cleanup function isn't implemented, then calls to that function should be intercepted by a stub function that returns WSAEOPNOTSUPP. The NSPv2 function pointer to the unimplemented NSPv2Cleanup function in the NSPV2_ROUTINE structure should point be to the stub function.\" 000: \"The NSPv2Startup, NSPv2ClientSessionRundown, and NSPv2Cleanup functions are optional, dependent on the requirements of the NSPv2 provider.\"",
        model_choice: Some(
            "The seeds give the stub rule for NSPv2Cleanup (000) and NSPv2ClientSessionRundown (001); ws2sim extends it to NSPv2Startup, which 000 names optional with them. The seeds do not say which routines are required: Microsoft's WSAAdvertiseProvider page does (it fails with WSAEINVAL without the three lookup routines), and WSAAdvertiseProvider checks only those: the host calls the others through the table as given, a NULL entry is an access violation that ends the host, and every session dies with it. The seeds say the call \"should\" be intercepted by a stub; ws2sim nevertheless holds it as a rule. Which optional routines a provider needs (000: optional, \"dependent on the requirements of the NSPv2 provider\") is read as: one whose NSPv2Startup keeps a block for a session requires the routines that end that session, as nothing else would free it.",
        ),
        errata: &[
            "001 says WSAEOPNOTSUPP \"can also be returned if the specified dwControlCode is an unrecognized command\": NSPv2ClientSessionRundown has no dwControlCode parameter (a sentence copied from another NSPv2 page).",
            "Both pages say the pointer \"should point be to the stub function\" (sic).",
        ],
    },
    Contract {
        id: ContractId::Nspv2OsNamespace,
        rule: "On Vista and Windows Server 2008, NSPv2 providers serve only NS_EMAIL (37): the host refuses a lookup in any other namespace. The seeds say it of NSPv2Cleanup and NSPv2ClientSessionRundown; ws2sim extends it to NSPv2Startup and the lookups (model choice).",
        seeds: &[NspV2Cleanup, NspV2ClientSessionRundown],
        source: "000: \"On Windows Vista and Windows Server 2008, the NSPv2Cleanup function can only be used for operations on NS_EMAIL namespace providers.\" (001 says the same of NSPv2ClientSessionRundown.)",
        model_choice: Some(
            "The seeds restrict only the two session-end routines; a session that could open but never end would break nspv2.session.ends_once, so ws2sim reads the restriction as one on the whole NSPv2 provider, NSPv2Startup and the lookups included. The host enforces it (it is the provider's own service, see nspv2.session.same_arg): it refuses a client's lookup in another namespace before any NSPv2 call, and that provider does not serve the lookup (WSASERVICE_NOT_FOUND when no other does). A lookup in NS_ALL reaches a provider installed for NS_EMAIL (an enabled entry: lookups skip a disabled one) as one in NS_EMAIL does, and no other. A disabled entry still installs its provider: a `Spi` step, calling the routines directly, may run those of a provider whose NS_EMAIL entry is disabled.",
        ),
        errata: &[
            "001's metadata (req.product) names \"Windows XP Professional x64 Edition or 64-bit editions of Windows Server 2003\", while the page and its other metadata say Vista and Server 2008 and later; ws2sim follows the page.",
        ],
    },
    Contract {
        id: ContractId::LspLowerBalanced,
        rule: "A layered provider, as an SPI client of the layer below, makes exactly as many WSPCleanup calls there as it made WSPStartup calls (counted when its final cleanup returns, or one in which, its count wrong, it does its actual cleanup), and makes them in its own final cleanup, not before it or after it.",
        seeds: &[WspCleanup],
        source: "003: \"For each WSPStartup call, a corresponding LPWSPCleanup call will also be issued. Only the final LPWSPCleanup for the service provider does the actual cleanup\" (the LSP is the \"SPI client\" of the layer below).",
        model_choice: Some(
            "The conforming layered model starts the layer below once per WSPStartup of its own (or lazily on the first WSPSocket of another chain) and tears all of those down inside its own final WSPCleanup. The seed asks for one WSPCleanup per WSPStartup and says nothing of when they come: that they come in the layer's own final cleanup, not before it or after it, is ws2sim's reading, so a layer that passes each of its WSPCleanup calls down at once (`lower: PassEachDown`, the mutant lsp_cleans_lower_early) is flagged by this reading, not by the seed's words. A call below is inside the final cleanup when the thread making that cleanup makes it while it runs (another thread's clean-up of the layer, running at the same time, is not the final one's). A clean-up its process's end, or the run's, cut short is the final one unless start-ups of the layer would still be outstanding without it; one that would leave some may not call below either.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::LoaderNoCodeAfterUnload,
        rule: "No provider code runs in a process after the DLL's load count there reached zero, nor after the image it belongs to was unloaded: a callback or worker of an image unloaded since does not run in the image loaded again.",
        seeds: &[NspCleanup, WspCleanup],
        source: "003: WSPCleanup \"should not return until the service provider DLL is prepared to be unloaded from memory\"; 002: NSPCleanup \"should not return until the namespace service provider DLL can be unloaded from memory\".",
        model_choice: Some(
            "The seeds say when a clean-up may return, not what follows an unload: ws2sim reads that from how Windows loads DLLs. Once an image is unloaded its code is gone, so any of it that runs after is flagged here, whoever unloaded it and however it got there: a worker thread, a thread-pool callback queued from DllMain, a call another thread was still making into the DLL when the last FreeLibrary came, or code of a provider unloaded with no clean-up at all. What the provider's code does counts as code: a SAN provider that completes an operation (giving back its memory) or posts a notification runs its code, as do a provider's calls and returns; a layered provider calling the layer below, or the switch in a TCP provider calling a SAN provider, runs its own code at the call and again when the call returns into it (but for the switch's calls on the sockets it leaves open to a SAN provider another client keeps, which nothing checks: model choice \"The switch\").",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::LoaderNoWaitUnderLoaderLock,
        rule: "No cleanup path waits, while holding the loader lock, for a thread that needs it: no cycle through the loader lock in the wait-for graph.",
        seeds: &[],
        source: "The seeds are silent; DllMain runs under the loader lock, and a thread that exits needs that lock for DLL_THREAD_DETACH, so waiting for one from DllMain cannot end.",
        model_choice: Some(
            "Threads, the loader lock, providers' locks and thread exits form a wait-for graph; a cycle that goes through the loader lock is reported with the cycle printed.",
        ),
        errata: &[],
    },
    Contract {
        id: ContractId::Ws2Balanced,
        rule: "ws2_32 and the Winsock switch as SPI clients (the switch lives in the base TCP provider, so a TCP provider's model can break this through its switch): when a process's final WSACleanup returns, every transport provider it started got as many WSPCleanup calls as WSPStartup calls, and every version-1 namespace provider as many NSPCleanup calls as NSPStartup calls, unless the process ended without cleanup; each NSPv2 session of the process open as it began is ended with NSPv2Cleanup (unless its host is withdrawing the provider, whose rundown ends it, or another thread of the process asked for that NSPv2Cleanup first; a process that hosts the provider itself withdraws it after those NSPv2Cleanup calls, so its own withdrawal excuses none); a start-up an API call made after another thread's final WSACleanup began is cleaned up by that call before it returns (model choice: nobody else would), and an NSPv2 session its host opened for a lookup then is ended by that lookup unless its end is another's (judged by how it ends: left to the host's rundown when the client ended, cleaned up by a final WSACleanup that began after the lookup returned, or gone with a host that was not withdrawing the provider as it ended, it was the lookup's); and when a TCP provider's final WSPCleanup returns, the switch inside it has made one WSPCleanup per WSPStartupEx on each SAN provider.",
        seeds: &[NspCleanup, WspCleanup, SanWspCleanup, NspV2Cleanup],
        source: "003: \"For each WSPStartup call, a corresponding LPWSPCleanup call will also be issued.\" 002: \"for each NSPStartup call, a corresponding NSPCleanup call must also be issued.\" 004: \"For each WSPStartupEx call, the switch must issue a corresponding WSPCleanup call.\" 000: \"for each NSPv2Startup call, a corresponding NSPv2Cleanup call must also be issued.\"",
        model_choice: Some(
            "An API call that began before another thread's final WSACleanup and starts a provider after it began cleans that start-up up again itself, and fails with WSANOTINITIALISED; a lookup whose NSPv2 session the host opened after that clean-up began ends it with NSPv2Cleanup (the clean-up took only the sessions open as it began), unless the process has started Winsock again by then, whose final WSACleanup it then is. Whether a session a final WSACleanup returned with still open was left to nobody is judged by how it ends: with an NSPv2Cleanup another thread of the process asked for, it was not; run down, ended by the same thread's next clean-up, or gone with its host, or still open when the run deadlocks, while no other thread of the process was in a WSACleanup or in a lookup begun before that clean-up returned (none can have asked for that NSPv2Cleanup and be waiting for it, or have ended with its process while it waited), it was. One still open when a budget cuts the run short is not judged.",
        ),
        errata: &[],
    },
];

impl Contract {
    /// The seeds whose sentence this rule rests on says "should", a recommendation in
    /// Microsoft's wording: ws2sim holds a provider to it as to a rule, and says so
    /// wherever it cites the sentence.
    pub fn should_in(&self) -> &'static [Seed] {
        match self.id {
            ContractId::WspCleanupUnloadReady => &[Seed::WspCleanup],
            ContractId::NspCleanupUnloadReady => &[Seed::NspCleanup],
            ContractId::LoaderNoCodeAfterUnload => &[Seed::NspCleanup, Seed::WspCleanup],
            ContractId::SanCleanupFreeBeforeComplete => &[Seed::SanWspCleanup],
            ContractId::Nspv2OptionalStub | ContractId::SpiReturnConvention => {
                &[Seed::NspV2Cleanup, Seed::NspV2ClientSessionRundown]
            }
            _ => &[],
        }
    }
}

pub fn find(id: &str) -> Option<&'static Contract> {
    ContractId::parse(id).map(ContractId::contract)
}

#[cfg(test)]
mod tests {

    /// One row per contract, in the order of [`ContractId::ALL`].
    #[test]
    fn the_table_has_one_row_per_contract_id() {
        assert_eq!(CONTRACTS.len(), ContractId::ALL.len());
        for (row, id) in CONTRACTS.iter().zip(ContractId::ALL) {
            assert_eq!(row.id, id);
            assert_eq!(ContractId::parse(id.as_str()), Some(id));
        }
    }

    use super::*;

    /// A contract whose quoted sentence says "should" names the pages that say it, so
    /// that `explain` and its violations' citations say ws2sim holds it as a rule; and
    /// only those pages, among the contract's own.
    #[test]
    fn every_should_the_sources_quote_is_named() {
        for contract in CONTRACTS {
            let should = contract.should_in();
            assert_eq!(
                contract.source.contains("should"),
                !should.is_empty(),
                "{}",
                contract.id
            );
            for seed in should {
                assert!(contract.seeds.contains(seed), "{}: {seed:?}", contract.id);
                let quoted = seed.number();
                assert!(
                    contract.source.contains(quoted),
                    "{}: {quoted}",
                    contract.id
                );
            }
        }
    }

    #[test]
    fn ids_are_unique_and_sorted_by_family() {
        let mut ids: Vec<_> = CONTRACTS.iter().map(|c| c.id).collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count);
        assert!(find("wsp.cleanup.refcount").is_some());
        assert!(find("wsp.cleanup.nonsense").is_none());
    }
}
