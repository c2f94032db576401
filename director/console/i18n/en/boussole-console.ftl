# Labels of the facilitator's console (English, second locale).

## Top bar
link-online = Connected to the director
link-training = Offline training: nothing reaches a director
link-connecting = Connecting to the director…
link-offline = Offline: { $reason }
phase-none = Game not started yet
phase-closed = Session closed
timer-running = { $remaining } left
timer-paused = { $remaining } left (paused)
session-time = Session { $time }
observer-badge = Observer: coding only
help-button = Help
locale-button = Français
quit-button = Quit the console

## Screens
screen-prepare = Prepare
screen-run = Run
screen-devices = Devices
screen-coding = Code
screen-end = Close

## Keys
key-help = F1 or ?
key-space = Space
key-escape = Esc
key-backspace = Backspace
key-enter = Enter

## Shortcuts (help)
shortcut-help = Show or hide this help
shortcut-screen = Go to the "{ $screen }" screen
shortcut-go = GO: fire the cue in standby
shortcut-stop-all = Stop everything (media and waits)
shortcut-start-game = Start the game
shortcut-pause-resume = Pause or resume the timer
shortcut-minus-minute = Take one minute off the timer
shortcut-plus-minute = Add one minute to the timer
shortcut-next-hint = Send the next hint of the current puzzle
shortcut-select = Select a participant (1 = first, 0 = tenth)
shortcut-select-group = Select the whole group (for a group note)
shortcut-undo = Undo my last code
shortcut-note = Write a free note (Enter sends it)
shortcut-locale = Switch between French and English

## Help
help-title = Keyboard shortcuts
help-grid = Observation grid keys (QWERTY / AZERTY)
help-layouts = Keys follow their position on the keyboard: an AZERTY keyboard codes like a QWERTY one.
help-close = Close help

## Run
stop-all = Stop all ({ $key })
start-game = Start the game ({ $key })
timer-pause = Pause the timer ({ $key })
timer-resume = Resume the timer ({ $key })
timer-minus = −1 min ({ $key })
timer-plus = +1 min ({ $key })
wait-pre = { $name }: pre-wait, { $left } left
wait-post = { $name }: post-wait, next cue in { $left }
cue-list = Cue list
cue-number = No.
cue-name = Cue
cue-kind = Kind
cue-waits = Waits
cue-standby = Put in standby
cue-in-standby = In standby
cue-wait-values = pre { $pre } s, post { $post } s
cue-auto-continue = then continues
cue-auto-follow = follows when done
cue-next = Next cue: { $name }
cue-notes = Notes: { $notes }
cue-none = No cue left in standby.
delivery-title = Cue delivery
delivery-lead = Starts scheduled { $ms } ms after the GO, so that every device starts together (from the links).
delivery-none = No cue fired yet.
delivery-cue = { $name } (starts at { $at }): started on { $started } of { $total } device(s) —
delivery-started = { $who }: started (+{ $ms } ms)
delivery-received = { $who }: received, not started yet
delivery-missing = { $who }: not received
delivery-no-target = no device of this session is targeted
puzzles = Puzzles
puzzle-locked = locked
puzzle-open = open since { $since }
puzzle-solved = solved at { $at } { $by }
puzzle-forced = solved by hand at { $at } ({ $reason }) { $by }
puzzle-hints = hints { $given }/{ $total }
puzzle-headset-shown = headset: view shown at { $at }
puzzle-headset-not-shown = headset: view not shown yet
puzzle-headset-busy = the headset plays an immersion: the puzzle shows when it ends.
puzzle-headset-stop-immersion = Stop the immersion and show the puzzle
force-reason = Reason
force-reason-hint = e.g. the padlock no longer responds
force-solve = Force "{ $puzzle }" solved
force-needs-reason = Give a reason before forcing a puzzle solved.
hints = Hints
hints-none = No puzzle open.
hint-target = Show on:
hint-room = room screens
hint-for = For:
hint-for-group = the whole group
hint-for-one = → { $name }
hint-cost = costs { $seconds } s
hint-send-level = Send rung { $level }
hint-send-next = Send the next hint ({ $key })
hint-asked = { $who } asked for a hint at { $at }
someone = Someone

## Devices
devices = Devices
devices-none = No device declared.
device-id = Device
device-role = Role
device-link = Link
device-rtt = Round trip
device-last-cue = Last cue received
device-health = Health
device-online = online since { $since }
device-offline = offline since { $since }
device-ack = cue no. { $instance } at { $at }
health-audio-ok = audio OK
health-audio-bad = no audio
health-xr-flat = VR unavailable (flat screen)
health-battery = battery { $percent } %
health-sync-ok = content up to date
health-sync-bad = content out of date
health-problem = { $at } · { $device }: { $what }
health-problems = { $count ->
    [one] 1 problem
   *[other] { $count } problems
}
devices-problems = Problems reported by the devices

## Code
coding-selected = Coding: { $name }
coding-select-first = Nobody is selected: a note goes to the group. To code, select a participant (keys 1 to 0 or click their colour).
coding-pending = Modifier? { $keys } (any other key: none)
coding-undo = Undo the last code ({ $key })
coding-note = Free note ({ $key })
coverage-fresh = { $name }: observed { $minutes } min ago
coverage-amber = { $name }: not observed for { $minutes } min
coverage-red = { $name }: not observed for { $minutes } min!
note-label = Note
note-cancel = Cancel the note
grid-key = Key
grid-behaviour = Behaviour
grid-kind = Kind
kind-point = point
kind-state = span
timeline = My codes
timeline-note = note: { $text }
timeline-running = running

## Prepare
prepare-scenario = Scenario: { $title }
prepare-scenario-facts = { $minutes } minutes, { $min } to { $max } players
prepare-checklist = Room set-up
prepare-participants = Participants
prepare-no-station = no station
prepare-pseudonym = Pseudonym
prepare-colour = Colour
prepare-name = Name (optional)
prepare-name-note = The name stays in the protected table, never in the session log.
prepare-add = Add the participant
prepare-pairing = Pairing
prepare-device-outdated-old = Device “{ $device }” runs software that is too old and was refused: update it, then restart it.
prepare-device-outdated-new = Device “{ $device }” runs newer software than the director and was refused: update the director on this computer.
prepare-device-known = declared
prepare-device-declare = Declare
prepare-devices = Declare a device
prepare-device-id = Id
prepare-device-station = Station:
prepare-device-register = Declare the device
prepare-immersions = Headsets' immersions
prepare-immersion-current = running: { $immersion } for { $participant }
prepare-immersion-first = first: { $immersion }
prepare-immersion-id = Immersion
prepare-immersion-assign = Assign
prepare-immersion-start = Start the immersion
prepare-immersion-start-together = Start the { $count } ready headsets together
prepare-immersion-stop = Stop the immersion (fades to the calm room)
headsets-paused = { $count ->
    [one] 1 headset paused
   *[other] { $count } headsets paused
}
headsets-pause-all = Pause every headset
headsets-resume-all = Resume all (together)
headset-pause = Pause
headset-resume = Resume
headset-paused-since = paused since { $since }

## Close
end-open-states = Open events
end-no-open-state = No open event.
end-open-state = { $who }: { $what } since { $since } (rater { $rater })
end-close-session = Close the session (closes open events)
end-closed = The session is closed.
end-comments = Facilitator's comments
end-comment = Comment for { $name }
end-recommendations = Guidance for { $name } (one per line)
end-save-comment = Save the comment for { $name }
end-evaluation = Go to the evaluation
screen-people = People
prepare-enrol = Enrol a person
prepare-person = Person
prepare-new-person = New person (added to the register)
prepare-move = Change person
prepare-move-now = Slot { $slot }: { $person }. Give this slot to:
prepare-move-confirm = Change this slot's person
prepare-move-cancel = Cancel
people-title = Person register
people-intro = A person is the same from one session to the next: find them here. Names stay in the director's protected table.
people-observer = The register is kept from the main console.
people-filter = Search
people-show-all = Also show archived and merged people
people-empty = Nobody in the register yet.
people-none-match = Nobody matches.
people-sessions = { $count ->
    [0] no session
    [one] 1 session
   *[other] { $count } sessions
}
people-archived = archived
people-merged = merged
people-new = New person
people-pseudonym = Pseudonym
people-name = Name (optional)
people-entered = Entered orientation (YYYY-MM-DD)
people-prescriber = Prescriber (counsellor)
people-structure = Structure or branch
people-create = Add to the register
people-pick = Pick a person in the list.
people-id = id: { $id }
people-has-name = name recorded (protected table)
people-their-sessions = Sessions
people-no-session = No session yet.
people-session-line = session { $session }, { $date } ({ $scenario }): slot { $slot }
people-save = Save the changes
people-archive = Archive
people-unarchive = Unarchive
people-merge-title = Duplicate
people-merge-help = If another entry is the same person (enrolled twice), merge it here; a merge can be undone.
people-merge-choose = Choose a person…
people-reason = Reason
people-merge = Merge into this person
people-reason-needed = A reason is required.
people-merged-into = Merged into { $person }.
people-unmerge = Undo the merge
prepare-move-to = Give the slot to
people-merge-from = Same person as
screen-evaluation = Evaluation
screen-synthesis = Synthesis
screen-agreement = Agreement
screen-timeline = Timeline
eval-title = Evaluation: proposed levels, evidence, levels retained
eval-no-rubric = This scenario has no rubric in this console's content.
eval-not-closed = The session is not closed: the proposed levels may still change.
eval-nobody = Nobody is enrolled in this session.
eval-rater = Coding used
eval-no-rater = no coding
eval-minutes = { $minutes } min of play observed
eval-not-observed = not observed
eval-proposed = Proposed: { $level } ({ $score } per minute)
eval-proposed-none = Proposed: not observed ({ $observations } observation(s), at least { $needed })
eval-self = Self-assessment: { $level }
eval-decided = Retained: { $level }
eval-decided-because = Retained: { $level } — { $reason }
eval-needs-reason = Level changed without a reason: write one before the synthesis.
eval-evidence = { $count ->
    [0] no evidence
    [one] 1 piece of evidence
   *[other] { $count } pieces of evidence
}
eval-no-evidence = Nothing observed for this competency.
eval-source-observation = observation
eval-source-game = game
eval-retain = Level retained
eval-reason = Reason
eval-confirm = Retain for “{ $competency }”
eval-change-needs-reason = A level other than the proposal needs a reason.
eval-debrief = Debrief and consent
eval-restitution = The debrief with the person took place
eval-restitution-done = Debrief recorded (session { $at }).
pairing-title = This console's first connection
pairing-explain = Type the six-digit code the director shows. It is asked only once.
pairing-code = Pairing code
pairing-submit = Pair this console
pairing-invalid = The code has six digits.
pairing-window-open-button = Open pairing (10 min)
pairing-window-close-button = Close pairing
pairing-window-closed = Pairing closed: no device can pair.
pairing-window-type = Code to type on the device:
pairing-window-left-min = Open for { $minutes } more min
pairing-window-left-s = Open for { $seconds } more s
pairing-window-locked = Too many wrong codes: pairing locked for { $seconds } more s

## The day's home (director of the day)
screen-home = Home
home-title = Home
home-none = Training: the home screen lists the control room's sessions; there are none here.
home-hello = Hello { $name }
home-lock = Lock the control room
home-live = Session open:
home-live-closed = Closed session open:
home-session-number = session no. { $id }
home-go-session = Go to the session
home-leave = Back home without a session
home-live-running-hint = Devices stay connected from one session to the next.
home-no-live = No session open: open today's planned one, create one, or resume one.
home-today = Today
home-today-none = Nothing planned today.
home-invited = { $count ->
    [0] nobody invited
    [one] 1 person invited
   *[other] { $count } people invited
}
home-resume = Resume
home-review = Review
home-start-planned = Open this session
home-not-director = runs outside the control room
home-new = New session
home-label = Session name:
home-label-hint = e.g. Tuesday group (never a person's name)
home-create = Create the session
home-create-leaves = Creating a session leaves the current one: its log is kept, you can resume it.
home-interrupted = Interrupted sessions
home-interrupted-none = No interrupted session.
home-past = Past sessions
home-past-none = No past session.
home-people = { $count ->
    [0] nobody
    [one] 1 person
   *[other] { $count } people
}
home-not-started = game not started
home-kind-escape = escape game
home-kind-immersion = immersion session
home-kind-workshop = workshop
home-kind-evaluation = evaluation

## Unlock the control room
unlock-app = Boussole — control room
unlock-starting = Starting the control room…
unlock-retry = Try again
unlock-first-title = First start: choose the passphrase
unlock-first-explain = It encrypts everything the control room keeps about people. It is asked each time the console opens: remember it, do not write it on the computer.
unlock-new = Passphrase:
unlock-again = The same, again:
unlock-rule = At least 12 characters mixing lower case, upper case, digits or signs, or a phrase of at least four words.
unlock-weak = Too weak: { $why }.
unlock-strong = Strong enough.
unlock-differ = The two passphrases differ: type them again.
unlock-create = Create and open the control room
unlock-title = The control room is locked
unlock-because = Locked: { $why }.
unlock-passphrase = Passphrase:
unlock-wait = Too many wrong tries: wait { $seconds } s before trying again.
unlock-button = Unlock
unlock-empty = Type the passphrase.
unlock-who = Who are you?
unlock-name = Your name:
unlock-who-missing = Say who you are: choose your name or type it.
unlock-busy = Opening…
unlock-forgot = Forgot the passphrase?
unlock-forgot-explain = Without it the encrypted log does not open: nobody can recover it. The recovery key printed at the first start restores the latest backup under a new passphrase:
recovery-title = The recovery key
recovery-explain = It is shown once and kept nowhere else: print it or copy it, and lock it away from the computer. It opens the backups if the passphrase is lost.
recovery-print = Print
recovery-noted = I printed or copied it
recovery-printed = Sent to the printer.
recovery-no-printer = No printer available: copy the key by hand.
recovery-sheet-title = Boussole — control room recovery key
recovery-sheet-keep = Lock it away from the computer. It opens the encrypted backups.

## The room (Devices screen)
room-title = The room: names and stations
room-explain = A device's station is kept for this scenario: it gets it again in the next sessions, on the next days too.
room-name = Name:
room-name-save = Name it
room-forget = Unpair
room-forget-confirm = Confirm: it will have to type a new code
## Devices' sound (Devices screen)
sound-title = Devices' sound
sound-explain = Settings kept for the next days. « Écouter » on a station always reads its text.
sound-voices-cut = Cut the room's voices
sound-voices-back = Bring the voices back
sound-voices-are-cut = Voices cut: no device reads a text on its own. « Écouter » still works.
sound-volume = Volume
sound-muted = Muted
sound-read-aloud = Reads texts aloud when they appear
home-devices = { $count ->
    [0] No device connected.
    [one] 1 device connected.
   *[other] { $count } devices connected.
}
prepare-few = { $count ->
    [one] 1 person enrolled
   *[other] { $count } people enrolled
} for a game made for { $min } or more: you may start anyway, sharing the puzzles will take longer.
unlock-open-title = The control room is open
unlock-open-by = Opened by { $who }. Type the passphrase to take the console back.
prepare-search = Search (name or pseudonym):
prepare-search-more = and { $count } more: type more of the name
prepare-search-none = Nobody matches: check the spelling, or enrol a new person.
prepare-entered = entered on { $date }

## Device roles (home)
roles-title = Device roles ({ $count })
roles-waiting = { $count ->
    [one] 1 device waits for its role: choose it below.
   *[other] { $count } devices wait for their role: choose it below.
}
roles-none = waiting for its role
roles-away = not connected right now
role-headset = Headset
role-screen = Room screen
role-terminal = Terminal
immersion-session = Immersion session: no game, no timer
prepare-immersion-facts = One person per headset, each in a trade of their own; the tutorial comes first. Give each headset a trade below, then start them together.

## The information notice (Prepare)
notice-to-give = Information notice to give (first session): { $names }
notice-all-given = Information notice: given to every person enrolled.
notice-title = The information notice, in simple words (read it with the person)
notice-1 = During the activities, the facilitator notes what you do and say. It is to help you choose a trade. It is not an exam.
notice-2 = With these notes we write a summary for your job counsellor. They are used for nothing else.
notice-3 = Your name is not in the notes: you have a pseudonym.
notice-4 = The notes are kept locked, in the facilitator's computer. They are erased at the end of your programme.
notice-5 = You may ask to see your notes, have them corrected or erased. You may refuse that the summary is sent.
notice-6 = For this, talk to the facilitator. You may also write to the CNIL.
notice-given = Notice given to { $name }
notice-paper = Also hand over the full notice, printed: it says who is responsible and how to reach them.

## A person's synthesis
synth-title = A person's synthesis
synth-choose = Choose the person: type part of their pseudonym.
synth-person = { $pseudonym } — { $sessions ->
    [0] no session
    [one] 1 session
   *[other] { $sessions } sessions
}
synth-person-button = { $pseudonym } ({ $sessions ->
    [0] no session
    [one] 1 session
   *[other] { $sessions } sessions
})
synth-search = Find a person:
synth-nobody = Nobody matches: check the spelling.
synth-more = and { $count } more: narrow the search
synth-for-counsellor = The counsellor's document
synth-for-participant = The person's version (debrief, simple words)
synth-final = Final version (after the debrief and the person's consent)
synth-with-name = Write the person's name (else their pseudonym)
synth-show = Show the synthesis
synth-waiting = The director is preparing the synthesis…
synth-stale = The choices changed since: click « Show the synthesis » to redo it.
synth-save = Save the PDF…
synth-saved = Saved: { $path }
synth-previous = ◀ Previous page
synth-next = Next page ▶
synth-page = Page { $page } of { $count }
synth-page-image = Page { $page } of { $count } of the synthesis
eval-synthesis = See { $pseudonym }'s synthesis
home-syntheses = People's syntheses
home-register = People register
home-back = ◀ Back to home

## Choosing a folder
folders-where = Where to save? Plugged-in USB keys come first.
folders-none = No USB key or folder found: plug in a key.
folders-removable = USB key « { $name } »
folders-documents = My documents
folders-home = Home folder
folders-here = Folder: { $path }
folders-save-here = Save here
folders-up = Parent folder
folders-other-place = Another place
folders-inside = Open a subfolder:
folders-cancel = Cancel

## Backup (home)
backup-never = No backup of the log yet.
backup-today = Log backed up today.
backup-days = Last backup of the log { $days } day(s) ago.
backup-due = Back it up on a USB key: a lost laptop must not take everything.
backup-start = Back up the log…

## Exporting observations (end)
export-title = Export the observations
export-boris = BORIS project
export-tabular = BORIS events (table)
export-csv = Spreadsheet (CSV)
export-notes = With the facilitator's notes (they may name people)
export-start = Export…

## The person's rights (register)
rights-title = The person's rights over their data
rights-export = Give the person their data (PDF document and file)…
rights-erase-help = Erase, at their request: their name, pseudonym and what was written about them go from all their sessions. This cannot be undone.
rights-erase-confirm = To confirm, type « { $pseudonym } »:
rights-erase = Erase « { $pseudonym } »

## Agreement between raters
irr-title = Agreement between the two raters
irr-one-rater = { $count ->
    [0] Nobody has coded yet: agreement is measured between two raters.
   *[other] Only one rater coded: agreement is measured between two raters.
}
irr-rater = Rater { $n }:
irr-slice = Slices of
irr-method-boris = BORIS's computation
irr-method-sets = Our « sets » variant
irr-overall = Cohen's kappa over the whole session
irr-kappa-plain = Without modifiers: { $value }
irr-kappa-modifiers = With modifiers: { $value }
irr-kappa-value = κ = { $kappa } ({ $band }), observed agreement { $observed } %
irr-kappa-undefined-boris = κ = { $kappa } (BORIS's value when both give the same answer everywhere)
irr-kappa-undefined = not computable (both give the same answer everywhere)
irr-units = { $slices } slices × { $participants } people; codes: { $a } and { $b }
irr-per-behaviour = Per behaviour
irr-behaviour = Behaviour
irr-codes = Codes (1 / 2)
irr-one-sided = coded by one only
irr-moments = { $count ->
    [0] No moment of disagreement
    [one] 1 moment of disagreement
   *[other] { $count } moments of disagreement
}
irr-no-moment = Both raters coded the same thing in every slice.
irr-moments-help = To go through together, in session order: who saw what, when.
irr-more = and { $count } more
irr-kappa-undefined-short = not computable

## The session's timeline
tl-title = The session's timeline
tl-zoom = Zoom:
tl-legend = Tick: point behaviour · bar: lasting behaviour · yellow triangle: hint · green check: puzzle solved · red cross: wrong answer. Hover a mark to read it.
tl-phases = Phases
tl-game = Game
tl-puzzle-solved = { $title }: opened at { $from }, solved at { $to }
tl-puzzle-open = { $title }: opened at { $from }, not solved
tl-solved = Puzzle solved ({ $puzzle })
tl-wrong = Wrong answer ({ $puzzle })
tl-hint = Hint ({ $puzzle })
tl-event = Game event
tl-focus = Moment chosen in the evaluation: { $at }
eval-evidence-timeline = See this moment on the timeline

## The passphrase (home)
pass-change = Change the passphrase…
pass-current = Current passphrase:
pass-new = New passphrase:
pass-confirm = The new one, again:
pass-weak = Too weak: { $why }.
pass-differ = The two new passphrases differ.
pass-send = Change the passphrase
irr-take = Take { $rater }'s code
irr-withdraw = Withdraw my code
irr-taken = washed up: code taken
irr-withdrawn = washed up: code withdrawn
irr-wash-up = After the close, wash up: take the other's code or withdraw yours. The agreement above stays that of the independent codings; the evaluation follows the wash-up.
synth-consent-title = The person's consent — version { $version }
synth-consent-none = No answer yet: after the debrief, ask them whether the synthesis may be sent on.
synth-consent-old = Consent of { $date } for version { $version }: the synthesis changed since, ask again.
synth-consent-given = Consent given on { $date } for this version.
synth-consent-refused = Refused on { $date }: the synthesis will not be sent on.
synth-consent-withdrawn = Consent withdrawn on { $date }.
synth-consent-give = Consent given for this version
synth-consent-refuse = Refused
synth-consent-withdraw = Consent withdrawn
synth-hand-over = Handed over to the prescriber: { $prescriber }
synth-handed = { $count ->
    [one] hand-over noted once
   *[other] hand-over noted { $count } times
}
synth-history-final = Final version { $version } written on { $date }
synth-history-handed = Final version { $version } handed over on { $date } to { $to }
eval-consent-on-synthesis = The consent to send the synthesis on is asked on the synthesis itself, version by version, after the debrief: « See …'s synthesis ».
eval-rater-default = by default: whoever coded most; choose to record it
screen-admin = Administration
home-admin = Access log, figures, purge
home-review-beside = "Review" opens a past session beside the current one, which goes on.
review-banner = Reviewing session no. { $id }: { $label } ({ $date })
review-back-live = Back to the current session
review-close = Close the review
review-hint = What you decide here (levels, comments, debrief, lead rater, wash-up) is written to that session's log.
review-open = Session no. { $id } open for review: { $label }
review-show = Show the reviewed session
admin-title = Administration
admin-access = Access log
admin-figures = Funders' figures
admin-purge = Purge of old sessions
admin-refresh = Refresh
admin-access-hint = Who read, exported, backed up or erased what, newest first (the last 500 lines). Never a name: pseudonyms and numbers.
admin-access-empty = The access log is empty.
admin-figures-hint = Anonymous figures for the ESF+: distinct people, sessions and hours, per month and per year. People do not add up across months; "< 3" hides small counts.
admin-figures-csv = Save the figures (CSV)…
admin-figures-empty = No session or result to count yet.
admin-col-period = Period
admin-col-kind = Activity
admin-col-sessions = Sessions
admin-col-persons = People
admin-col-hours = Hours
admin-col-person-hours = Person-hours
admin-partial = { $persons } (partial)
admin-purge-rule = Sessions older than { $months } months (created before { $date }) are removed, with their names, observations and notes. Their figures stay, without personal data.
admin-purge-nothing = Nothing to purge: no session is past the retention period.
admin-purge-session = Session no. { $id }: { $label } ({ $date }), { $people ->
        [one] 1 person
       *[other] { $people } people
    }, { $records } log entries
admin-purge-results = { $count ->
        [one] 1 result from another tool, older than the retention period, goes too.
       *[other] { $count } results from other tools, older than the retention period, go too.
    }
admin-purge-persons = People of the register with no session left and inactive as long are removed too.
admin-purge-persons-go = Remove only the inactive people
admin-purge-warning = A purge cannot be undone: make a backup first if you need one.
admin-purge-check = I have read the list
admin-purge-go = { $count ->
        [one] Purge this session
       *[other] Purge these { $count } sessions
    }
folders-where-open = Where is the file? Plugged-in USB keys come first.
folders-no-file = No .{ $extension } file in this folder.
screen-roadmap = Pathway
people-roadmap = Pathway and results of { $pseudonym }…
roadmap-back = ◀ Back to the register
roadmap-title-none = Pathway
roadmap-pick = Choose the person in the register (People), then "Pathway and results".
roadmap-title = Pathway of { $pseudonym }
roadmap-waiting = The roadmap is on its way from the control room…
roadmap-entries = Roadmap
roadmap-empty = No activity prescribed yet.
roadmap-change = Interrupt or cancel no. { $id }…
roadmap-interrupt = Interrupted
roadmap-cancel = Cancelled
roadmap-prescribe = Prescribe an activity
roadmap-choose = Choose an activity
roadmap-by = Prescribed by:
roadmap-on = On (YYYY-MM-DD):
roadmap-prescribe-go = Prescribe
roadmap-results = Results from other tools
roadmap-no-result = No result recorded.
roadmap-result-line = No. { $id } — { $tool }, on { $date }, administered by { $by }
roadmap-result-pdf = PDF report kept (encrypted): { $name }
roadmap-record = Record a result
roadmap-record-hint = Copy what the tool gave: the Boussole computes nothing and derives no soft-skill level from it.
roadmap-taken-on = Taken on (YYYY-MM-DD):
roadmap-administered-by = Administered by:
roadmap-pdf = Attach the PDF report…
roadmap-pdf-chosen = Report attached: { $name }
roadmap-pdf-remove = Remove
roadmap-record-empty = Fill in at least one result.
roadmap-record-go = Record the result
roadmap-activity = Activity:
roadmap-tool = Evaluation done with:
restore-title = Restore a backup
restore-explain = The log is replaced by the backup chosen, which opens with the recovery key printed at the first start; it will be encrypted with the new passphrase. The current log, if any, is kept aside, whole.
restore-first-run = Does this laptop replace one lost or broken? Take the log back from its backup.
restore-open = Restore a backup…
restore-choose = Choose the backup…
restore-file = Backup: { $file }
restore-other-file = Another one
restore-key = Recovery key:
restore-go = Restore
restore-no-file = Choose the backup to restore.
restore-no-key = Type the printed recovery key.
screen-plan = Plan
home-plan = Sessions plan
plan-title = Sessions plan
plan-waiting = The plan is on its way from the control room…
plan-coming = Coming
plan-nothing = Nothing planned.
plan-when = { $when }, { $minutes } min, { $place }
plan-series = , series no. { $series }
plan-nobody = Nobody invited yet.
plan-invited = Invited: { $who }
plan-waiting-lists = Waiting
plan-nobody-waits = Nobody waits for an activity.
plan-waits = { $title }: { $count ->
        [0] nobody waits
        [one] 1 person waits
       *[other] { $count } people wait
    }
plan-opens-now = To open: at least { $count } people wait.
plan-opens-at = Opens when { $count } people wait.
plan-new = Plan a session
plan-date = On (YYYY-MM-DD):
plan-time = At (HH:MM):
plan-place = Place:
plan-minutes = Length (minutes):
plan-count = Number of sessions (every { $weeks } weeks):
plan-fill = Choose the activity, the day, the time and the place.
plan-go = Plan
plan-ics = Export the calendar (.ics)…
home-who-came = Present (untick who did not come):
cue-where = Where
cue-no-device = { $what }: no device
plan-cancel = Cancel session no. { $id }…
plan-cancel-go = Cancel this session

spectator-title = What the headsets look at
spectator-no-immersion = No immersion running
spectator-waiting = not started yet
spectator-running = running
spectator-paused = paused
spectator-finished = finished
spectator-looking-at = Looking at: { $what }
spectator-looking-away = Looking elsewhere (heading { $yaw }°, { $pitch }° up)
spectator-stale = Last position received { $seconds } s ago
spectator-enlarge = Click to enlarge (or shrink)
spectator-ignored = { $count } positions ignored (out of order, from a device that is not a headset, or implausible)
spectator-picture = View of { $device }
spectator-doing-waiting = In the waiting room
spectator-doing-introduction = Listening to the introduction
spectator-doing-exploring = Exploring the place
spectator-doing-hotspot = Listening to a point of interest
spectator-doing-task = Doing a task
spectator-doing-questionnaire = Answering the end questionnaire
spectator-doing-break = Offered a break
spectator-doing-paused = Paused
spectator-doing-finished = Finished (thanks)
spectator-doing-stopped = Stopped: calm room
spectator-doing-guided = In a headset-guided puzzle
spectator-board = On the board: “{ $text }”
spectator-slowed = { $count } headsets followed: views are redrawn in turn, less often, to keep the console smooth.
