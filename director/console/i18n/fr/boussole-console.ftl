# Libellés de la console de l'animateur·rice (français, langue de référence).

## Barre du haut
link-online = Connecté au directeur
link-training = Entraînement hors ligne : rien n'est envoyé au directeur
link-connecting = Connexion au directeur…
link-offline = Hors ligne : { $reason }
phase-none = Jeu pas encore commencé
phase-closed = Séance close
timer-running = Reste { $remaining }
timer-paused = Reste { $remaining } (en pause)
session-time = Séance { $time }
observer-badge = Observateur·rice : codage seulement
help-button = Aide
locale-button = English
quit-button = Quitter la console

## Écrans
screen-prepare = Préparer
screen-run = Jouer
screen-devices = Appareils
screen-coding = Coder
screen-end = Clôturer

## Touches
key-help = F1 ou ?
key-space = Espace
key-escape = Échap
key-backspace = Retour arrière
key-enter = Entrée

## Raccourcis (aide)
shortcut-help = Afficher ou masquer cette aide
shortcut-screen = Aller à l'écran « { $screen } »
shortcut-go = GO : lancer le top en attente
shortcut-stop-all = Tout arrêter (médias et attentes)
shortcut-start-game = Démarrer le jeu
shortcut-pause-resume = Mettre le minuteur en pause ou le reprendre
shortcut-minus-minute = Retirer une minute au minuteur
shortcut-plus-minute = Ajouter une minute au minuteur
shortcut-next-hint = Envoyer l'indice suivant de l'énigme en cours
shortcut-select = Choisir un·e participant·e (1 = premier·e, 0 = dixième)
shortcut-select-group = Choisir le groupe entier (pour une note de groupe)
shortcut-undo = Annuler mon dernier codage
shortcut-note = Écrire une note libre (Entrée pour l'envoyer)
shortcut-locale = Passer de français à anglais

## Aide
help-title = Raccourcis clavier
help-grid = Touches de la grille d'observation (QWERTY / AZERTY)
help-layouts = Les touches suivent leur position sur le clavier : un clavier AZERTY code comme un QWERTY.
help-close = Fermer l'aide

## Jouer
stop-all = Tout arrêter ({ $key })
start-game = Démarrer le jeu ({ $key })
timer-pause = Pause du minuteur ({ $key })
timer-resume = Reprendre le minuteur ({ $key })
timer-minus = −1 min ({ $key })
timer-plus = +1 min ({ $key })
wait-pre = { $name } : pré-attente, encore { $left }
wait-post = { $name } : post-attente, top suivant dans { $left }
cue-list = Conduite
cue-number = N°
cue-name = Top
cue-kind = Type
cue-waits = Attentes
cue-standby = Mettre en attente
cue-in-standby = En attente
cue-wait-values = avant { $pre } s, après { $post } s
cue-auto-continue = puis enchaîne
cue-auto-follow = enchaîne à la fin
cue-next = Prochain top : { $name }
cue-notes = Notes : { $notes }
cue-none = Plus aucun top en attente.
delivery-title = Diffusion des tops
delivery-lead = Départs programmés { $ms } ms après le top, pour que chaque appareil démarre en même temps (d'après les liaisons).
delivery-none = Aucun top lancé pour l'instant.
delivery-cue = { $name } (départ à { $at }) : démarré sur { $started } appareil(s) sur { $total } —
delivery-started = { $who } : démarré (+{ $ms } ms)
delivery-received = { $who } : reçu, pas encore démarré
delivery-missing = { $who } : pas reçu
delivery-no-target = aucun appareil visé dans cette séance
puzzles = Énigmes
puzzle-locked = verrouillée
puzzle-open = ouverte depuis { $since }
puzzle-solved = résolue à { $at } { $by }
puzzle-forced = résolue à la main à { $at } ({ $reason }) { $by }
puzzle-hints = indices { $given }/{ $total }
puzzle-headset-shown = casque : vue montrée à { $at }
puzzle-headset-not-shown = casque : vue pas encore montrée
puzzle-headset-busy = le casque joue une immersion : l'énigme s'affichera à sa fin.
puzzle-headset-stop-immersion = Arrêter l'immersion et montrer l'énigme
force-reason = Raison
force-reason-hint = ex. : le cadenas ne répond plus
force-solve = Forcer la résolution de « { $puzzle } »
force-needs-reason = Indiquez une raison avant de forcer la résolution.
hints = Indices
hints-none = Aucune énigme ouverte.
hint-target = Afficher sur :
hint-room = écrans de salle
hint-for = Pour :
hint-for-group = tout le groupe
hint-for-one = → { $name }
hint-cost = coûte { $seconds } s
hint-send-level = Envoyer le palier { $level }
hint-send-next = Envoyer l'indice suivant ({ $key })
hint-asked = { $who } a demandé un indice à { $at }
someone = Quelqu'un

## Appareils
devices = Appareils
devices-none = Aucun appareil déclaré.
device-id = Appareil
device-role = Rôle
device-link = Liaison
device-rtt = Aller-retour
device-last-cue = Dernier top reçu
device-health = État
device-online = en ligne depuis { $since }
device-offline = hors ligne depuis { $since }
device-ack = top n° { $instance } à { $at }
health-audio-ok = son OK
health-audio-bad = pas de son
health-xr-flat = réalité virtuelle indisponible (écran plat)
health-battery = batterie { $percent } %
health-sync-ok = contenu à jour
health-sync-bad = contenu pas à jour
health-problem = { $at } · { $device } : { $what }
health-problems = { $count ->
    [one] 1 problème
   *[other] { $count } problèmes
}
devices-problems = Problèmes signalés par les appareils

## Coder
coding-selected = Codage pour : { $name }
coding-select-first = Personne n'est choisi·e : une note va au groupe. Pour coder, choisissez un·e participant·e (touches 1 à 0 ou clic sur sa couleur).
coding-pending = Modificateur ? { $keys } (une autre touche : sans)
coding-undo = Annuler le dernier codage ({ $key })
coding-note = Note libre ({ $key })
coverage-fresh = { $name } : observé·e il y a { $minutes } min
coverage-amber = { $name } : pas observé·e depuis { $minutes } min
coverage-red = { $name } : pas observé·e depuis { $minutes } min !
note-label = Note
note-cancel = Annuler la note
grid-key = Touche
grid-behaviour = Comportement
grid-kind = Type
kind-point = ponctuel
kind-state = durée
timeline = Mes codages
timeline-note = note : { $text }
timeline-running = en cours

## Préparer
prepare-scenario = Scénario : { $title }
prepare-scenario-facts = { $minutes } minutes, de { $min } à { $max } joueur·euses
prepare-checklist = Installation de la salle
prepare-participants = Participant·es
prepare-no-station = sans poste
prepare-pseudonym = Pseudonyme
prepare-colour = Couleur
prepare-name = Nom (facultatif)
prepare-name-note = Le nom reste dans la table protégée, jamais dans le journal de séance.
prepare-add = Ajouter le ou la participant·e
prepare-pairing = Appairage
prepare-device-outdated-old = L'appareil « { $device } » a un logiciel trop ancien et a été refusé : mettez-le à jour, puis redémarrez-le.
prepare-device-outdated-new = L'appareil « { $device } » a un logiciel plus récent que la régie et a été refusé : mettez à jour la régie de cet ordinateur.
prepare-device-known = déclaré
prepare-device-declare = Déclarer
prepare-devices = Déclarer un appareil
prepare-device-id = Identifiant
prepare-device-station = Poste :
prepare-device-register = Déclarer l'appareil
prepare-immersions = Immersions des casques
prepare-immersion-current = en cours : { $immersion } pour { $participant }
prepare-immersion-first = d'abord : { $immersion }
prepare-immersion-id = Immersion
prepare-immersion-assign = Attribuer
prepare-immersion-start = Démarrer l'immersion
prepare-immersion-start-together = Démarrer ensemble les { $count } casques prêts
prepare-immersion-stop = Arrêter l'immersion (fondu vers la salle calme)
headsets-paused = { $count ->
    [one] 1 casque en pause
   *[other] { $count } casques en pause
}
headsets-pause-all = Mettre tous les casques en pause
headsets-resume-all = Tout reprendre (ensemble)
headset-pause = Pause
headset-resume = Reprendre
headset-paused-since = en pause depuis { $since }

## Clôturer
end-open-states = Événements en cours
end-no-open-state = Aucun événement en cours.
end-open-state = { $who } : { $what } depuis { $since } (codeur { $rater })
end-close-session = Clôturer la séance (ferme les événements en cours)
end-closed = La séance est close.
end-comments = Commentaires de l'animateur·rice
end-comment = Commentaire pour { $name }
end-recommendations = Pistes d'orientation pour { $name } (une par ligne)
end-save-comment = Enregistrer le commentaire de { $name }
end-evaluation = Aller à l'évaluation
screen-people = Personnes
prepare-enrol = Inscrire une personne
prepare-person = Personne
prepare-new-person = Nouvelle personne (ajoutée au registre)
prepare-move = Changer de personne
prepare-move-now = Place { $slot } : { $person }. Donner cette place à :
prepare-move-confirm = Changer la personne de cette place
prepare-move-cancel = Annuler
people-title = Registre des personnes
people-intro = Une personne est la même d'une séance à l'autre : c'est ici qu'on la retrouve. Les noms restent dans la table protégée du directeur.
people-observer = Le registre est tenu depuis la console principale.
people-filter = Rechercher
people-show-all = Montrer aussi les archivées et fusionnées
people-empty = Personne dans le registre pour l'instant.
people-none-match = Aucune personne ne correspond.
people-sessions = { $count ->
    [0] aucune séance
    [one] 1 séance
   *[other] { $count } séances
}
people-archived = archivée
people-merged = fusionnée
people-new = Nouvelle personne
people-pseudonym = Pseudonyme
people-name = Nom (facultatif)
people-entered = Entrée en orientation (AAAA-MM-JJ)
people-prescriber = Prescripteur (CIP)
people-structure = Structure ou antenne
people-create = Ajouter au registre
people-pick = Choisissez une personne dans la liste.
people-id = identifiant : { $id }
people-has-name = nom enregistré (table protégée)
people-their-sessions = Séances
people-no-session = Aucune séance pour l'instant.
people-session-line = séance { $session }, { $date } ({ $scenario }) : place { $slot }
people-save = Enregistrer les modifications
people-archive = Archiver
people-unarchive = Désarchiver
people-merge-title = Doublon
people-merge-help = Si une autre fiche est la même personne (inscrite deux fois), fusionnez-la ici ; la fusion s'annule.
people-merge-choose = Choisir une personne…
people-reason = Raison
people-merge = Fusionner avec cette personne
people-reason-needed = Une raison est demandée.
people-merged-into = Fusionnée avec { $person }.
people-unmerge = Annuler la fusion
prepare-move-to = Donner la place à
people-merge-from = Même personne que
screen-evaluation = Évaluation
screen-synthesis = Synthèse
screen-agreement = Accord
screen-timeline = Frise
eval-title = Évaluation : niveaux proposés, preuves, niveaux retenus
eval-no-rubric = Ce scénario n'a pas de grille d'évaluation dans le contenu de cette console.
eval-not-closed = La séance n'est pas close : les niveaux proposés peuvent encore changer.
eval-nobody = Personne n'est inscrit à cette séance.
eval-rater = Codage retenu
eval-no-rater = aucun codage
eval-minutes = { $minutes } min de jeu observées
eval-not-observed = non observé
eval-proposed = Proposé : { $level } ({ $score } par minute)
eval-proposed-none = Proposé : non observé ({ $observations } observation(s), { $needed } au moins)
eval-self = Auto-évaluation : { $level }
eval-decided = Retenu : { $level }
eval-decided-because = Retenu : { $level } — { $reason }
eval-needs-reason = Niveau changé sans raison : écrivez-en une avant la synthèse.
eval-evidence = { $count ->
    [0] aucune preuve
    [one] 1 preuve
   *[other] { $count } preuves
}
eval-no-evidence = Rien d'observé pour cette compétence.
eval-source-observation = observation
eval-source-game = jeu
eval-retain = Niveau retenu
eval-reason = Raison
eval-confirm = Retenir pour « { $competency } »
eval-change-needs-reason = Un niveau différent de la proposition demande une raison.
eval-debrief = Restitution et accord
eval-restitution = La restitution avec la personne a eu lieu
eval-restitution-done = Restitution enregistrée (séance { $at }).
pairing-title = Première connexion de cette console
pairing-explain = Saisissez le code à six chiffres affiché par le directeur. Il n'est demandé qu'une fois.
pairing-code = Code d'appairage
pairing-submit = Appairer cette console
pairing-invalid = Le code a six chiffres.
pairing-window-open-button = Ouvrir l'appairage (10 min)
pairing-window-close-button = Fermer l'appairage
pairing-window-closed = Appairage fermé : aucun appareil ne peut s'appairer.
pairing-window-type = Code à saisir sur l'appareil :
pairing-window-left-min = Ouvert encore { $minutes } min
pairing-window-left-s = Ouvert encore { $seconds } s
pairing-window-locked = Trop de codes erronés : appairage bloqué encore { $seconds } s

## Accueil de la journée (directeur de la journée)
screen-home = Accueil
home-title = Accueil
home-none = Entraînement : l'accueil liste les séances de la régie ; il n'y en a pas ici.
home-hello = Bonjour { $name }
home-lock = Verrouiller la régie
home-live = Séance en cours :
home-live-closed = Séance close ouverte :
home-session-number = séance n° { $id }
home-go-session = Aller à la séance
home-leave = Revenir à l'accueil sans séance
home-live-running-hint = Les appareils restent connectés d'une séance à l'autre.
home-no-live = Aucune séance ouverte : ouvrez celle du plan, créez-en une, ou reprenez-en une.
home-today = Aujourd'hui
home-today-none = Rien de prévu aujourd'hui dans le plan.
home-invited = { $count ->
    [0] personne d'invitée
    [one] 1 personne invitée
   *[other] { $count } personnes invitées
}
home-resume = Reprendre
home-review = Revoir
home-start-planned = Ouvrir cette séance
home-not-director = se déroule hors de la régie
home-new = Nouvelle séance
home-label = Nom de la séance :
home-label-hint = ex. Groupe du mardi (jamais le nom d'une personne)
home-create = Créer la séance
home-create-leaves = Créer une séance quitte la séance en cours : son journal est gardé, vous pourrez la reprendre.
home-interrupted = Séances interrompues
home-interrupted-none = Aucune séance interrompue.
home-past = Séances passées
home-past-none = Aucune séance passée.
home-people = { $count ->
    [0] personne
    [one] 1 personne
   *[other] { $count } personnes
}
home-not-started = jeu pas commencé
home-kind-escape = escape game
home-kind-immersion = séance d'immersion
home-kind-workshop = atelier
home-kind-evaluation = évaluation

## Déverrouiller la régie
unlock-app = Boussole — régie
unlock-starting = Démarrage de la régie…
unlock-retry = Réessayer
unlock-first-title = Première ouverture : choisissez la phrase de passe
unlock-first-explain = Elle chiffre tout ce que la régie garde sur les personnes. Elle sera demandée à chaque ouverture de la console : retenez-la, ne l'écrivez pas sur l'ordinateur.
unlock-new = Phrase de passe :
unlock-again = La même, encore :
unlock-rule = Au moins 12 caractères mêlant minuscules, majuscules, chiffres ou signes, ou une phrase d'au moins quatre mots.
unlock-weak = Trop faible : { $why }.
unlock-strong = Phrase de passe assez forte.
unlock-differ = Les deux phrases de passe ne sont pas identiques : saisissez-les à nouveau.
unlock-create = Créer et ouvrir la régie
unlock-title = La régie est verrouillée
unlock-because = Verrouillée : { $why }.
unlock-passphrase = Phrase de passe :
unlock-wait = Trop d'essais manqués : patientez { $seconds } s avant de réessayer.
unlock-button = Déverrouiller
unlock-empty = Saisissez la phrase de passe.
unlock-who = Qui êtes-vous ?
unlock-name = Votre nom :
unlock-who-missing = Dites qui vous êtes : choisissez votre nom ou écrivez-le.
unlock-busy = Ouverture en cours…
unlock-forgot = Phrase de passe oubliée ?
unlock-forgot-explain = Sans elle, le journal chiffré ne s'ouvre pas : personne ne peut la retrouver. La clé de secours imprimée à la première ouverture permet de restaurer la dernière sauvegarde sous une nouvelle phrase de passe :
recovery-title = La clé de secours
recovery-explain = Elle n'est montrée qu'une fois et n'est gardée nulle part ailleurs : imprimez-la ou recopiez-la, et rangez-la sous clé, loin de l'ordinateur. Elle ouvre les sauvegardes si la phrase de passe est perdue.
recovery-print = Imprimer
recovery-noted = Je l'ai imprimée ou recopiée
recovery-printed = Envoyée à l'imprimante.
recovery-no-printer = Aucune imprimante disponible : recopiez la clé à la main.
recovery-sheet-title = Boussole — clé de secours de la régie
recovery-sheet-keep = À ranger sous clé, loin de l'ordinateur. Elle ouvre les sauvegardes chiffrées.

## La salle (écran Appareils)
room-title = La salle : noms et postes
room-explain = Le poste donné à un appareil est gardé pour ce scénario : il le retrouve aux prochaines séances, les jours suivants aussi.
room-name = Nom :
room-name-save = Nommer
room-forget = Désappairer
room-forget-confirm = Confirmer : il devra saisir un nouveau code
## Le son des appareils (écran Appareils)
sound-title = Le son des appareils
sound-explain = Réglages gardés pour les prochains jours. « Écouter » sur un poste lit toujours son texte.
sound-voices-cut = Couper les voix de la salle
sound-voices-back = Rendre les voix
sound-voices-are-cut = Voix coupées : aucun appareil ne lit de texte tout seul. « Écouter » marche encore.
sound-volume = Volume
sound-muted = Muet
sound-read-aloud = Lit les textes à voix haute quand ils arrivent
home-devices = { $count ->
    [0] Aucun appareil connecté.
    [one] 1 appareil connecté.
   *[other] { $count } appareils connectés.
}
prepare-few = { $count ->
    [one] 1 personne inscrite
   *[other] { $count } personnes inscrites
} pour un jeu prévu à partir de { $min } : vous pouvez commencer quand même, les énigmes seront plus longues à se partager.
unlock-open-title = La régie est ouverte
unlock-open-by = Ouverte par { $who }. Saisissez la phrase de passe pour reprendre la console.
prepare-search = Chercher (nom ou pseudonyme) :
prepare-search-more = et { $count } autres : précisez la recherche
prepare-search-none = Personne ne correspond : vérifiez l'orthographe, ou inscrivez une nouvelle personne.
prepare-entered = entrée le { $date }

## Les rôles des appareils (accueil)
roles-title = Rôles des appareils ({ $count })
roles-waiting = { $count ->
    [one] 1 appareil attend son rôle : choisissez-le ci-dessous.
   *[other] { $count } appareils attendent leur rôle : choisissez-le ci-dessous.
}
roles-none = attend son rôle
roles-away = pas connecté en ce moment
role-headset = Casque
role-screen = Écran de salle
role-terminal = Terminal
immersion-session = Séance d'immersion : pas de jeu ni de minuteur
prepare-immersion-facts = Une personne par casque, chacune dans son métier ; le tutoriel passe en premier. Donnez un métier à chaque casque plus bas, puis démarrez-les ensemble.

## La notice d'information (Préparer)
notice-to-give = Notice d'information à donner (première venue) : { $names }
notice-all-given = Notice d'information : donnée à chaque personne inscrite.
notice-title = La notice d'information, en mots simples (à lire avec la personne)
notice-1 = Pendant les activités, l'animateur·rice note ce que vous faites et dites. C'est pour vous aider à choisir un métier. Ce n'est pas un examen.
notice-2 = Avec ces notes, nous écrivons un bilan pour votre conseiller·ère emploi. Elles ne servent à rien d'autre.
notice-3 = Dans les notes, votre nom n'apparaît pas : vous avez un pseudonyme.
notice-4 = Les notes sont gardées sous clé, dans l'ordinateur de l'animateur·rice. Elles sont effacées à la fin de votre parcours.
notice-5 = Vous pouvez demander à voir vos notes, les faire corriger ou effacer. Vous pouvez refuser que le bilan soit envoyé.
notice-6 = Pour cela, parlez à l'animateur·rice. Vous pouvez aussi écrire à la CNIL.
notice-given = Notice donnée à { $name }
notice-paper = Remettez aussi la notice complète, imprimée : elle dit qui est responsable et comment le joindre.

## La synthèse d'une personne
synth-title = La synthèse d'une personne
synth-choose = Choisissez la personne : tapez une partie de son pseudonyme.
synth-person = { $pseudonym } — { $sessions ->
    [0] aucune séance
    [one] 1 séance
   *[other] { $sessions } séances
}
synth-person-button = { $pseudonym } ({ $sessions ->
    [0] aucune séance
    [one] 1 séance
   *[other] { $sessions } séances
})
synth-search = Chercher une personne :
synth-nobody = Personne ne correspond : vérifiez l'orthographe.
synth-more = et { $count } autres : précisez la recherche
synth-for-counsellor = Document du conseiller ou de la conseillère
synth-for-participant = Version pour la personne (restitution, mots simples)
synth-final = Version finale (après la restitution et l'accord de la personne)
synth-with-name = Écrire le nom de la personne (sinon son pseudonyme)
synth-show = Afficher la synthèse
synth-waiting = Le directeur prépare la synthèse…
synth-stale = Les choix ont changé depuis : cliquez sur « Afficher la synthèse » pour la refaire.
synth-save = Enregistrer le PDF…
synth-saved = Enregistré : { $path }
synth-previous = ◀ Page précédente
synth-next = Page suivante ▶
synth-page = Page { $page } sur { $count }
synth-page-image = Page { $page } sur { $count } de la synthèse
eval-synthesis = Voir la synthèse de { $pseudonym }
home-syntheses = Synthèses des personnes
home-register = Registre des personnes
home-back = ◀ Retour à l'accueil

## Le choix d'un dossier
folders-where = Où enregistrer ? Les clés USB branchées viennent en premier.
folders-none = Aucune clé USB ni dossier trouvé : branchez une clé.
folders-removable = Clé USB « { $name } »
folders-documents = Mes documents
folders-home = Dossier personnel
folders-here = Dossier : { $path }
folders-save-here = Enregistrer ici
folders-up = Dossier parent
folders-other-place = Autre emplacement
folders-inside = Ouvrir un sous-dossier :
folders-cancel = Annuler

## La sauvegarde (accueil)
backup-never = Aucune sauvegarde du journal encore.
backup-today = Journal sauvegardé aujourd'hui.
backup-days = Dernière sauvegarde du journal il y a { $days } jour(s).
backup-due = Sauvegardez-le sur une clé USB : un ordinateur perdu ne doit pas tout emporter.
backup-start = Sauvegarder le journal…

## L'export des observations (clôture)
export-title = Exporter les observations
export-boris = Projet BORIS
export-tabular = Événements BORIS (tableau)
export-csv = Tableur (CSV)
export-notes = Avec les notes de l'animateur·rice (elles peuvent nommer des personnes)
export-start = Exporter…

## Les droits de la personne (registre)
rights-title = Droits de la personne sur ses données
rights-export = Remettre ses données à la personne (document PDF et fichier)…
rights-erase-help = Effacer, à sa demande : son nom, son pseudonyme et ce qui a été écrit sur elle disparaissent de toutes ses séances. Ce n'est pas réversible.
rights-erase-confirm = Pour confirmer, tapez « { $pseudonym } » :
rights-erase = Effacer « { $pseudonym } »

## L'accord entre les observateurs
irr-title = Accord entre les deux observateurs
irr-one-rater = { $count ->
    [0] Personne n'a encore codé : l'accord se mesure entre deux observateurs.
   *[other] Un seul observateur a codé : l'accord se mesure entre deux observateurs.
}
irr-rater = Observateur { $n } :
irr-slice = Tranches de
irr-method-boris = Calcul de BORIS
irr-method-sets = Notre variante « ensembles »
irr-overall = Kappa de Cohen sur toute la séance
irr-kappa-plain = Sans les modificateurs : { $value }
irr-kappa-modifiers = Avec les modificateurs : { $value }
irr-kappa-value = κ = { $kappa } ({ $band }), accord observé { $observed } %
irr-kappa-undefined-boris = κ = { $kappa } (valeur de BORIS quand les deux donnent partout la même réponse)
irr-kappa-undefined = non calculable (les deux donnent partout la même réponse)
irr-units = { $slices } tranches × { $participants } personnes ; codes : { $a } et { $b }
irr-per-behaviour = Par comportement
irr-behaviour = Comportement
irr-codes = Codes (1 / 2)
irr-one-sided = codé par un seul
irr-moments = { $count ->
    [0] Aucun moment de désaccord
    [one] 1 moment de désaccord
   *[other] { $count } moments de désaccord
}
irr-no-moment = Les deux observateurs ont codé la même chose à chaque tranche.
irr-moments-help = À revoir ensemble, dans l'ordre de la séance : qui a vu quoi, à quel moment.
irr-more = et { $count } autres
irr-kappa-undefined-short = non calculable

## La frise de la séance
tl-title = Frise de la séance
tl-zoom = Zoom :
tl-legend = Trait : comportement ponctuel · barre : comportement qui dure · triangle jaune : indice · coche verte : énigme résolue · croix rouge : mauvaise réponse. Survolez une marque pour la lire.
tl-phases = Phases
tl-game = Jeu
tl-puzzle-solved = { $title } : ouverte à { $from }, résolue à { $to }
tl-puzzle-open = { $title } : ouverte à { $from }, pas résolue
tl-solved = Énigme résolue ({ $puzzle })
tl-wrong = Mauvaise réponse ({ $puzzle })
tl-hint = Indice ({ $puzzle })
tl-event = Événement du jeu
tl-focus = Moment choisi dans l'évaluation : { $at }
eval-evidence-timeline = Voir ce moment sur la frise

## La phrase de passe (accueil)
pass-change = Changer la phrase de passe…
pass-current = Phrase de passe actuelle :
pass-new = Nouvelle phrase de passe :
pass-confirm = La nouvelle, encore une fois :
pass-weak = Trop faible : { $why }.
pass-differ = Les deux nouvelles phrases de passe diffèrent.
pass-send = Changer la phrase de passe
irr-take = Reprendre le code de { $rater }
irr-withdraw = Retirer mon code
irr-taken = mis en commun : code repris
irr-withdrawn = mis en commun : code retiré
irr-wash-up = Après la clôture, mettez en commun : reprenez le code de l'autre ou retirez le vôtre. L'accord ci-dessus reste celui des codages indépendants ; l'évaluation suit la mise en commun.
synth-consent-title = Accord de la personne — version { $version }
synth-consent-none = Pas encore de réponse : après la restitution, demandez-lui si la synthèse peut être transmise.
synth-consent-old = Accord du { $date } pour la version { $version } : la synthèse a changé depuis, redemandez l'accord.
synth-consent-given = Accord donné le { $date } pour cette version.
synth-consent-refused = Refus le { $date } : la synthèse ne sera pas transmise.
synth-consent-withdrawn = Accord retiré le { $date }.
synth-consent-give = Accord donné pour cette version
synth-consent-refuse = Refus
synth-consent-withdraw = Accord retiré
synth-hand-over = Remise au prescripteur : { $prescriber }
synth-handed = { $count ->
    [one] remise notée une fois
   *[other] remise notée { $count } fois
}
synth-history-final = Version finale { $version } écrite le { $date }
synth-history-handed = Version finale { $version } remise le { $date } à { $to }
eval-consent-on-synthesis = L'accord pour transmettre la synthèse se recueille sur la synthèse elle-même, version par version, après la restitution : « Voir la synthèse de … ».
eval-rater-default = par défaut : celui ou celle qui a le plus codé ; choisissez pour le noter
screen-admin = Administration
home-admin = Journal des accès, chiffres, purge
home-review-beside = « Revoir » ouvre une séance passée à côté de la séance en cours, qui continue.
review-banner = Revue de la séance n° { $id } : { $label } ({ $date })
review-back-live = Revenir à la séance en cours
review-close = Fermer la revue
review-hint = Ce que vous décidez ici (niveaux, commentaires, restitution, codage retenu, accord) s'écrit dans le journal de cette séance-là.
review-open = Séance n° { $id } ouverte en revue : { $label }
review-show = Voir la séance revue
admin-title = Administration
admin-access = Journal des accès
admin-figures = Chiffres des financeurs
admin-purge = Purge des séances anciennes
admin-refresh = Actualiser
admin-access-hint = Qui a lu, exporté, sauvegardé ou effacé quoi, du plus récent au plus ancien (les 500 dernières lignes). Jamais un nom : des pseudonymes et des numéros.
admin-access-empty = Le journal des accès est vide.
admin-figures-hint = Chiffres anonymes pour le FSE+ : personnes distinctes, séances et heures, par mois et par année. Les personnes ne s'additionnent pas d'un mois à l'autre ; « < 3 » masque les petits effectifs.
admin-figures-csv = Enregistrer les chiffres (CSV)…
admin-figures-empty = Aucune séance ni résultat à compter pour l'instant.
admin-col-period = Période
admin-col-kind = Activité
admin-col-sessions = Séances
admin-col-persons = Personnes
admin-col-hours = Heures
admin-col-person-hours = Personnes-heures
admin-partial = { $persons } (partiel)
admin-purge-rule = Les séances de plus de { $months } mois (créées avant le { $date }) sont retirées, avec leurs noms, leurs observations et leurs notes. Leurs chiffres restent, sans donnée personnelle.
admin-purge-nothing = Rien à purger : aucune séance n'a dépassé la durée de conservation.
admin-purge-session = Séance n° { $id } : { $label } (du { $date }), { $people ->
        [one] 1 personne
       *[other] { $people } personnes
    }, { $records } entrées du journal
admin-purge-results = { $count ->
        [one] 1 résultat d'un autre outil, plus ancien que la durée de conservation, part aussi.
       *[other] { $count } résultats d'autres outils, plus anciens que la durée de conservation, partent aussi.
    }
admin-purge-persons = Les personnes du registre qui n'ont plus de séance et sont inactives depuis aussi longtemps sont retirées aussi.
admin-purge-persons-go = Retirer seulement les personnes inactives
admin-purge-warning = Une purge ne se défait pas : faites d'abord une sauvegarde si vous en avez besoin.
admin-purge-check = J'ai relu la liste
admin-purge-go = { $count ->
        [one] Purger cette séance
       *[other] Purger ces { $count } séances
    }
folders-where-open = Où est le fichier ? Les clés USB branchées viennent en premier.
folders-no-file = Aucun fichier .{ $extension } dans ce dossier.
screen-roadmap = Parcours
people-roadmap = Parcours et résultats de { $pseudonym }…
roadmap-back = ◀ Retour au registre
roadmap-title-none = Parcours
roadmap-pick = Choisissez la personne dans le registre (Personnes), puis « Parcours et résultats ».
roadmap-title = Parcours de { $pseudonym }
roadmap-waiting = La feuille de route arrive de la régie…
roadmap-entries = Feuille de route
roadmap-empty = Aucune activité prescrite pour l'instant.
roadmap-change = Interrompre ou annuler le n° { $id }…
roadmap-interrupt = Interrompue
roadmap-cancel = Annulée
roadmap-prescribe = Prescrire une activité
roadmap-choose = Choisir une activité
roadmap-by = Prescrite par :
roadmap-on = Le (AAAA-MM-JJ) :
roadmap-prescribe-go = Prescrire
roadmap-results = Résultats d'autres outils
roadmap-no-result = Aucun résultat enregistré.
roadmap-result-line = n° { $id } — { $tool }, le { $date }, fait passer par { $by }
roadmap-result-pdf = Rapport PDF gardé (chiffré) : { $name }
roadmap-record = Enregistrer un résultat
roadmap-record-hint = Recopiez ce que l'outil a donné : la Boussole ne calcule rien et n'en tire pas de niveau de savoir-être.
roadmap-taken-on = Passé le (AAAA-MM-JJ) :
roadmap-administered-by = Fait passer par :
roadmap-pdf = Joindre le rapport PDF…
roadmap-pdf-chosen = Rapport joint : { $name }
roadmap-pdf-remove = Retirer
roadmap-record-empty = Remplissez au moins un résultat.
roadmap-record-go = Enregistrer le résultat
roadmap-activity = Activité :
roadmap-tool = Évaluation faite avec :
restore-title = Restaurer une sauvegarde
restore-explain = Le journal est remplacé par la sauvegarde choisie, qui s'ouvre avec la clé de secours imprimée à la première ouverture ; il sera chiffré avec la nouvelle phrase de passe. Le journal actuel, s'il y en a un, est gardé à côté, entier.
restore-first-run = Ce poste remplace un ordinateur perdu ou en panne ? Reprenez le journal depuis sa sauvegarde.
restore-open = Restaurer une sauvegarde…
restore-choose = Choisir la sauvegarde…
restore-file = Sauvegarde : { $file }
restore-other-file = Une autre
restore-key = Clé de secours :
restore-go = Restaurer
restore-no-file = Choisissez la sauvegarde à restaurer.
restore-no-key = Tapez la clé de secours imprimée.
screen-plan = Planning
home-plan = Planning des séances
plan-title = Planning des séances
plan-waiting = Le planning arrive de la régie…
plan-coming = À venir
plan-nothing = Rien de planifié.
plan-when = { $when }, { $minutes } min, { $place }
plan-series = , série n° { $series }
plan-nobody = Personne d'invité pour l'instant.
plan-invited = Invités : { $who }
plan-waiting-lists = En attente
plan-nobody-waits = Personne n'attend une activité.
plan-waits = { $title } : { $count ->
        [0] personne n'attend
        [one] 1 personne attend
       *[other] { $count } personnes attendent
    }
plan-opens-now = À ouvrir : { $count } personnes attendent au moins.
plan-opens-at = S'ouvre quand { $count } personnes attendent.
plan-new = Planifier une séance
plan-date = Le (AAAA-MM-JJ) :
plan-time = À (HH:MM) :
plan-place = Lieu :
plan-minutes = Durée (minutes) :
plan-count = Nombre de séances (toutes les { $weeks } semaines) :
plan-fill = Choisissez l'activité, le jour, l'heure et le lieu.
plan-go = Planifier
plan-ics = Exporter l'agenda (.ics)…
home-who-came = Présents (décochez qui n'est pas venu) :
cue-where = Où
cue-no-device = { $what } : aucun appareil
plan-cancel = Annuler la séance n° { $id }…
plan-cancel-go = Annuler cette séance

spectator-title = Ce que regardent les casques
spectator-no-immersion = Pas d'immersion en cours
spectator-waiting = pas encore commencée
spectator-running = en cours
spectator-paused = en pause
spectator-finished = terminée
spectator-looking-at = Regarde : { $what }
spectator-looking-away = Regarde ailleurs (cap { $yaw }°, { $pitch }° en hauteur)
spectator-stale = Dernière position reçue il y a { $seconds } s
spectator-enlarge = Cliquer pour agrandir (ou réduire)
spectator-ignored = { $count } positions ignorées (hors d'ordre, d'un appareil qui n'est pas un casque, ou invraisemblables)
spectator-picture = Vue de { $device }
spectator-doing-waiting = Dans la salle d'attente
spectator-doing-introduction = Écoute l'introduction
spectator-doing-exploring = Explore le lieu
spectator-doing-hotspot = Écoute un point d'intérêt
spectator-doing-task = Fait une tâche
spectator-doing-questionnaire = Répond au questionnaire de fin
spectator-doing-break = Devant la proposition de pause
spectator-doing-paused = En pause
spectator-doing-finished = A terminé (remerciements)
spectator-doing-stopped = Arrêtée : salle calme
spectator-doing-guided = Dans une énigme guidée par le casque
spectator-board = Au tableau : « { $text } »
spectator-slowed = { $count } casques suivis : les vues se redessinent à tour de rôle, moins souvent, pour que la console reste fluide.
