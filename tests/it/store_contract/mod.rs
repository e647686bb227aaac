//! The behaviour every `Store` backend must have, written against
//! `DynStore` only. `contract_suite!(name, factory)` runs every case of
//! [`cases`] against a fresh store from `factory` (an `async fn() ->
//! Fixture`); each backend of [`backends`] adds one line at the bottom.

mod backends;
mod cases;

use std::any::Any;

use confab::store::DynStore;

/// A fresh, empty store, and whatever must live as long as it (a temporary
/// directory, a throwaway database).
pub struct Fixture {
    pub store: DynStore,
    pub _guard: Box<dyn Any + Send>,
}

/// Calls `$m!($($args)*; every case)`, so the list of cases is written once.
macro_rules! with_all_cases {
    ($m:ident!($($args:tt)*)) => {
        $m!($($args)*;
            the_store_answers_a_ping,
            an_import_keeps_foreign_ids_and_a_second_run_changes_nothing,
            an_imported_message_older_than_the_newest_is_put_in_time_order,
            upsert_creates_then_refreshes_profile_and_keeps_unspecified_fields,
            last_seen_is_recorded,
            placeholders_are_filled_by_the_first_upsert,
            password_user_conflicts_on_username_case_insensitively,
            direct_conversation_is_created_once_and_returned_after,
            direct_conversation_is_created_once_under_20_concurrent_calls,
            group_membership_and_roles,
            members_named_before_their_first_token_become_placeholders,
            add_and_remove_member,
            sequence_numbers_are_1_to_n_without_gaps_under_50_concurrent_inserts,
            a_message_to_a_missing_conversation_fails_alone_among_concurrent_inserts,
            client_id_retry_returns_the_first_message,
            history_pages_before_and_after_with_limits,
            edit_and_soft_delete,
            read_watermark_only_moves_forward_and_never_past_last_seq,
            unread_counts_exclude_own_and_deleted_messages,
            conversations_of_is_ordered_by_last_activity_with_last_message_and_unread,
            contacts_are_everyone_sharing_a_conversation,
            message_lookup_by_id_and_by_uuid,
            conversation_lookup_by_id_and_uuid,
            a_missing_row_is_none,
            a_friendship_is_one_row_per_unordered_pair,
            a_friendship_with_an_unknown_user_provisions_a_placeholder,
            a_device_token_belongs_to_one_user,
            uploads_are_recorded_once_by_path,
            message_kinds_and_attachments_are_stored,
            attachment_metadata_is_stored_and_erased_by_a_delete,
            a_direct_conversation_is_looked_up_without_being_created,
            a_department_starts_with_its_creator_as_admin_and_keeps_agents,
            support_conversations_belong_to_their_department,
            a_member_mutes_and_unmutes_a_conversation_for_itself,
            a_user_is_found_by_username_then_by_email,
            roles_and_titles_change_and_say_whether_they_did,
            a_declared_kind_is_stored_beside_the_kind,
            live_history_leaves_deleted_messages_out_of_the_page_and_the_count,
            users_are_listed_by_id_in_pages,
            users_are_searched_by_a_prefix_of_id_username_or_display_name_in_pages,
            a_user_is_disabled_and_enabled_and_an_unknown_one_is_not_found,
            tokens_are_revoked_per_user_or_for_all_and_never_moved_back,
            a_deleted_user_keeps_their_messages_anonymised_and_loses_the_rest,
            every_kind_of_write_makes_one_change_in_the_order_of_the_writes,
            a_users_feed_holds_only_the_changes_made_while_it_was_a_member,
            the_feed_is_read_in_pages_that_follow_each_other,
            concurrent_writers_never_make_a_reader_skip_a_change,
        );
    };
}

/// `contract_suite!(module_name, factory)`: one `#[tokio::test]` per case,
/// each on a fresh store from `factory().await`.
macro_rules! contract_suite {
    ($backend:ident, $factory:path) => {
        with_all_cases!(contract_suite_impl!($backend, $factory));
    };
}

macro_rules! contract_suite_impl {
    ($backend:ident, $factory:path; $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let fixture: $crate::store_contract::Fixture = $factory().await;
                    $crate::store_contract::cases::$case(fixture.store.clone()).await;
                    drop(fixture);
                }
            )*
        }
    };
}

contract_suite!(sqlite_memory, super::backends::sqlite_memory);
contract_suite!(sqlite_file, super::backends::sqlite_file);
contract_suite!(postgres, super::backends::postgres);
