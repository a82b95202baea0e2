// @generated automatically by Diesel CLI.

diesel::table! {
    audit_log (id) {
        id -> Text,
        organisation_id -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        summary -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    auth_sessions (id) {
        id -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        console_token_hash -> Nullable<Text>,
    }
}

diesel::table! {
    known_login_clients (client_key) {
        client_key -> Text,
        last_login_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        throttle_key -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        timezone -> Text,
        created_at -> Timestamp,
        contact_phone -> Nullable<Text>,
        mail_signature -> Nullable<Text>,
        reminder_rules -> Text,
        retention_months -> Nullable<Integer>,
        lottery_no_shows_last -> Bool,
    }
}

diesel::table! {
    programmes (id) {
        id -> Text,
        owner_organisation_id -> Text,
        name -> Text,
        min_cell_size -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    programme_viewers (programme_id, account_id) {
        programme_id -> Text,
        account_id -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    programme_memberships (programme_id, organisation_id) {
        programme_id -> Text,
        organisation_id -> Text,
        granted_by -> Text,
        granted_at -> Timestamp,
        withdrawn_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    resident_erasures (resident_id) {
        resident_id -> Text,
        organisation_id -> Text,
        reason -> Text,
        erased_by -> Nullable<Text>,
        erased_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        spent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    staff_accounts (id) {
        id -> Text,
        organisation_id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        affiliation -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        must_change_password -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        venue_id -> Nullable<Text>,
    }
}

diesel::table! {
    board_links (venue_id) {
        venue_id -> Text,
        organisation_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox_messages (id) {
        id -> Text,
        organisation_id -> Text,
        kind -> Text,
        resident_id -> Nullable<Text>,
        booking_id -> Nullable<Text>,
        ticket_id -> Nullable<Text>,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    call_list_items (id) {
        id -> Text,
        organisation_id -> Text,
        resident_id -> Text,
        venue_id -> Nullable<Text>,
        reason -> Text,
        booking_id -> Nullable<Text>,
        ticket_id -> Nullable<Text>,
        script -> Text,
        status -> Text,
        tries -> Integer,
        due_on -> Date,
        last_outcome -> Nullable<Text>,
        last_note -> Nullable<Text>,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    call_outcomes (id) {
        id -> Text,
        call_id -> Text,
        outcome -> Text,
        note -> Nullable<Text>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reminders_sent (booking_id, rule) {
        booking_id -> Text,
        rule -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    course_enrolments (id) {
        id -> Text,
        organisation_id -> Text,
        course_id -> Text,
        resident_id -> Text,
        status -> Text,
        channel -> Text,
        needs_loaner -> Bool,
        if_no_loaner -> Nullable<Text>,
        entered_by -> Text,
        cancel_reason -> Nullable<Text>,
        created_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    enrolment_conflicts (id) {
        id -> Text,
        organisation_id -> Text,
        enrolment_id -> Text,
        session_id -> Text,
        code -> Text,
        detail -> Text,
        status -> Text,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<Text>,
        close_note -> Nullable<Text>,
    }
}

diesel::table! {
    venue_opening_hours (venue_id, weekday) {
        venue_id -> Text,
        weekday -> Integer,
        opens -> Time,
        closes -> Time,
    }
}

diesel::joinable!(audit_log -> organisations (organisation_id));
diesel::joinable!(auth_sessions -> staff_accounts (account_id));
diesel::joinable!(refresh_tokens -> auth_sessions (session_id));
diesel::joinable!(staff_accounts -> organisations (organisation_id));

diesel::table! {
    topics (id) {
        id -> Text,
        organisation_id -> Nullable<Text>,
        code -> Text,
        label -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    venues (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        address -> Nullable<Text>,
        room -> Nullable<Text>,
        default_capacity -> Integer,
        phone -> Nullable<Text>,
        accessibility_notes -> Nullable<Text>,
        online_url -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    courses (id) {
        id -> Text,
        organisation_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        audience -> Nullable<Text>,
        level -> Nullable<Text>,
        kind -> Text,
        default_fee_yen -> Integer,
        default_length_minutes -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        min_age -> Nullable<Integer>,
        max_age -> Nullable<Integer>,
        districts -> Nullable<Text>,
    }
}

diesel::table! {
    course_topics (course_id, topic_code) {
        course_id -> Text,
        topic_code -> Text,
    }
}

diesel::table! {
    closures (id) {
        id -> Text,
        organisation_id -> Text,
        starts_local -> Timestamp,
        ends_local -> Timestamp,
        reason -> Text,
        created_at -> Timestamp,
        venue_id -> Nullable<Text>,
    }
}

diesel::table! {
    series (id) {
        id -> Text,
        organisation_id -> Text,
        course_id -> Text,
        venue_id -> Text,
        room -> Nullable<Text>,
        rrule -> Text,
        starts_on -> Date,
        until_on -> Nullable<Date>,
        occurrence_count -> Nullable<Integer>,
        start_time -> Time,
        end_time -> Time,
        capacity -> Integer,
        fee_yen -> Integer,
        loaner_fee_yen -> Integer,
        booking_opens_days_before -> Integer,
        booking_closes_minutes_before -> Integer,
        waitlist_enabled -> Bool,
        skip_public_holidays -> Bool,
        skip_closures -> Bool,
        materialized_until -> Date,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        allocation -> Text,
        applications_close_at -> Nullable<Timestamp>,
        draw_at -> Nullable<Timestamp>,
        offer_hours -> Nullable<Integer>,
        first_timers_first -> Bool,
    }
}

diesel::table! {
    series_exception_dates (series_id, on_date) {
        series_id -> Text,
        on_date -> Date,
    }
}

diesel::table! {
    series_instructors (series_id, account_id) {
        series_id -> Text,
        account_id -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        organisation_id -> Text,
        series_id -> Nullable<Text>,
        occurrence_date -> Nullable<Date>,
        course_id -> Text,
        venue_id -> Text,
        room -> Nullable<Text>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        capacity -> Integer,
        seats_taken -> Integer,
        waitlist_count -> Integer,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        fee_yen -> Integer,
        loaner_fee_yen -> Integer,
        booking_opens_at -> Nullable<Timestamp>,
        booking_closes_at -> Nullable<Timestamp>,
        waitlist_enabled -> Bool,
        detached -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        waitlist_seq -> Integer,
        allocation -> Text,
        applications_close_at -> Nullable<Timestamp>,
        draw_at -> Nullable<Timestamp>,
        offer_hours -> Nullable<Integer>,
        first_timers_first -> Bool,
        drawn_at -> Nullable<Timestamp>,
        applications_count -> Integer,
    }
}

diesel::table! {
    session_instructors (session_id, account_id) {
        session_id -> Text,
        account_id -> Text,
    }
}

diesel::table! {
    calendar_feeds (id) {
        id -> Text,
        organisation_id -> Text,
        scope -> Text,
        target_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_leases (name) {
        name -> Text,
        holder -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    residents (id) {
        id -> Text,
        organisation_id -> Text,
        family_name -> Text,
        given_name -> Text,
        family_name_kana -> Text,
        given_name_kana -> Text,
        search_text -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        birth_year -> Nullable<Integer>,
        age_band -> Nullable<Text>,
        district -> Nullable<Text>,
        accessibility_needs -> Text,
        contact_preference -> Text,
        consent_contact -> Bool,
        consent_data -> Bool,
        device -> Nullable<Text>,
        notes -> Nullable<Text>,
        merged_into -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    bookings (id) {
        id -> Text,
        organisation_id -> Text,
        session_id -> Text,
        resident_id -> Text,
        status -> Text,
        channel -> Text,
        reference -> Text,
        needs_loaner -> Bool,
        notes -> Nullable<Text>,
        waitlist_seq -> Nullable<Integer>,
        over_capacity -> Bool,
        fee_due_yen -> Integer,
        window_override_reason -> Nullable<Text>,
        entered_by -> Text,
        cancel_reason -> Nullable<Text>,
        cancelled_by -> Nullable<Text>,
        cancelled_at -> Nullable<Timestamp>,
        promoted_at -> Nullable<Timestamp>,
        attendance -> Nullable<Text>,
        attendance_marked_by -> Nullable<Text>,
        attendance_marked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        enrolment_id -> Nullable<Text>,
        fee_exemption_reason -> Nullable<Text>,
        class_fee_yen -> Integer,
        loaner_fee_yen -> Integer,
        eligibility_override_reason -> Nullable<Text>,
        age_band -> Nullable<Text>,
        offered_at -> Nullable<Timestamp>,
        offer_expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    session_draws (session_id) {
        session_id -> Text,
        organisation_id -> Text,
        seed -> Text,
        algorithm -> Text,
        capacity -> Integer,
        seats_free -> Integer,
        applicants -> Integer,
        winners -> Integer,
        first_timers_first -> Bool,
        no_shows_last -> Bool,
        no_show_count -> Integer,
        no_show_months -> Integer,
        drawn_by -> Nullable<Text>,
        drawn_at -> Timestamp,
    }
}

diesel::table! {
    draw_entries (session_id, position) {
        session_id -> Text,
        position -> Integer,
        booking_id -> Text,
        resident_id -> Text,
        first_timer -> Bool,
        recent_no_shows -> Bool,
        ticket -> Text,
        outcome -> Text,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        organisation_id -> Text,
        asset_tag -> Text,
        kind -> Text,
        os -> Text,
        os_version -> Nullable<Text>,
        model -> Text,
        home_venue_id -> Text,
        status -> Text,
        condition_notes -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    device_events (id) {
        id -> Text,
        device_id -> Text,
        kind -> Text,
        detail -> Text,
        actor_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    loaner_reservations (booking_id) {
        booking_id -> Text,
        venue_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    loans (id) {
        id -> Text,
        organisation_id -> Text,
        device_id -> Text,
        booking_id -> Nullable<Text>,
        resident_id -> Text,
        due_at -> Timestamp,
        lent_by -> Text,
        lent_at -> Timestamp,
        returned_at -> Nullable<Timestamp>,
        returned_to -> Nullable<Text>,
        return_condition -> Nullable<Text>,
    }
}

diesel::table! {
    receipt_counters (organisation_id, fiscal_year) {
        organisation_id -> Text,
        fiscal_year -> Integer,
        last_number -> Integer,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        organisation_id -> Text,
        booking_id -> Text,
        session_id -> Text,
        venue_id -> Text,
        resident_id -> Text,
        kind -> Text,
        amount_yen -> Integer,
        method -> Text,
        receipt_number -> Text,
        refund_of -> Nullable<Text>,
        reason -> Nullable<Text>,
        received_by -> Text,
        local_date -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    enrolments (id) {
        id -> Text,
        organisation_id -> Text,
        series_id -> Text,
        resident_id -> Text,
        status -> Text,
        entered_by -> Text,
        cancel_reason -> Nullable<Text>,
        created_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
        channel -> Text,
        needs_loaner -> Bool,
        if_no_loaner -> Nullable<Text>,
        course_enrolment_id -> Nullable<Text>,
    }
}

diesel::table! {
    booking_events (id) {
        id -> Text,
        organisation_id -> Text,
        booking_id -> Text,
        kind -> Text,
        created_at -> Timestamp,
        processed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (organisation_id, idem_key) {
        organisation_id -> Text,
        idem_key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ticket_categories (id) {
        id -> Text,
        organisation_id -> Nullable<Text>,
        code -> Text,
        label -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tickets (id) {
        id -> Text,
        organisation_id -> Text,
        channel -> Text,
        status -> Text,
        priority -> Text,
        category -> Text,
        subject -> Text,
        description -> Nullable<Text>,
        device -> Nullable<Text>,
        os -> Nullable<Text>,
        resident_id -> Nullable<Text>,
        booking_id -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        venue_id -> Nullable<Text>,
        queue_date -> Nullable<Date>,
        queue_number -> Nullable<Integer>,
        called_at -> Nullable<Timestamp>,
        assignee_id -> Nullable<Text>,
        taken_by -> Text,
        first_response_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        merged_into -> Nullable<Text>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    ticket_queue_counters (venue_id, local_date) {
        venue_id -> Text,
        local_date -> Date,
        last_number -> Integer,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> Text,
        ticket_id -> Text,
        kind -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        body -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ticket_messages (id) {
        id -> Text,
        ticket_id -> Text,
        to_email -> Text,
        body -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    opening_hours (organisation_id, weekday) {
        organisation_id -> Text,
        weekday -> Integer,
        opens -> Time,
        closes -> Time,
    }
}

diesel::table! {
    volunteer_skills (account_id, category) {
        account_id -> Text,
        category -> Text,
    }
}

diesel::table! {
    volunteer_duty (account_id, weekday) {
        account_id -> Text,
        weekday -> Integer,
        starts -> Time,
        ends -> Time,
    }
}

diesel::table! {
    volunteer_rotation (account_id) {
        account_id -> Text,
        last_assigned_at -> Timestamp,
    }
}

diesel::joinable!(bookings -> sessions (session_id));
diesel::joinable!(draw_entries -> bookings (booking_id));
diesel::joinable!(loans -> devices (device_id));
diesel::joinable!(bookings -> residents (resident_id));
diesel::joinable!(sessions -> courses (course_id));
diesel::joinable!(sessions -> venues (venue_id));
diesel::joinable!(sessions -> series (series_id));
diesel::joinable!(session_instructors -> sessions (session_id));
diesel::joinable!(session_instructors -> staff_accounts (account_id));
diesel::joinable!(series_instructors -> series (series_id));
diesel::joinable!(series_instructors -> staff_accounts (account_id));
diesel::joinable!(series -> courses (course_id));
diesel::joinable!(series -> venues (venue_id));
diesel::joinable!(course_topics -> courses (course_id));

diesel::allow_tables_to_appear_in_same_query!(
    session_draws,
    draw_entries,
    board_links,
    resident_erasures,
    programmes,
    programme_viewers,
    programme_memberships,
    outbox_messages,
    call_list_items,
    call_outcomes,
    reminders_sent,
    course_enrolments,
    enrolment_conflicts,
    venue_opening_hours,
    known_login_clients,
    audit_log,
    auth_sessions,
    booking_events,
    bookings,
    calendar_feeds,
    closures,
    course_topics,
    courses,
    device_events,
    devices,
    enrolments,
    idempotency_keys,
    job_leases,
    loaner_reservations,
    loans,
    login_failures,
    opening_hours,
    organisations,
    payments,
    receipt_counters,
    refresh_tokens,
    residents,
    series,
    series_exception_dates,
    series_instructors,
    session_instructors,
    sessions,
    staff_accounts,
    ticket_categories,
    ticket_events,
    ticket_messages,
    ticket_queue_counters,
    tickets,
    topics,
    venues,
    volunteer_duty,
    volunteer_rotation,
    volunteer_skills,
);
