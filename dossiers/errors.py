"""The exceptions conum raises, in one tree.

    ConumError                      base: carries a stable ``code`` and a French ``message``
    ├── DemandeInvalide             the demande JSON is refused (one entry per bad field)
    ├── RulesError                  a rule set is missing or malformed
    ├── TemplateError               a template is missing (from the deployment), broken or uses an unknown variable
    ├── ConversionError             DOCX -> PDF failed (timeout, LibreOffice crash, no converter)
    ├── StorageError                the document store failed
    │   ├── ObjectExists            a write would replace a different object (never allowed)
    │   ├── ObjectNotFound          no object under that key
    │   ├── ChecksumMismatch        the bytes read back are not the bytes written
    │   ├── ObjectLocked            under retention (object lock): no delete or replacement before its date
    │   └── StorageUnavailable      transient: the store could not be reached
    ├── CatalogError                the catalog failed (transient), or holds or would hold an inconsistency
    │   ├── ConventionConflict      a different demande already produced this convention
    │   └── StructureFigee          a demande would rewrite the structure of an issued convention
    ├── ChangementRefuse            a change request (avenant, renouvellement, résiliation) is refused
    ├── DossierError                a dossier request is refused (unknown dossier or poste, bad kind)
    ├── DepotRefuse                 a signed copy refused before staging (unknown version, too big, empty, not a PDF)
    ├── IdempotenceConflit          an Idempotency-Key already bound to another request
    ├── RapportError                the rapport de contrôle cannot be drawn (no usable font)
    ├── InspectionUnavailable       transient: no inspection child process could run the file
    ├── HorodatageUnavailable       transient: the time-stamping authority (TSA_URL) did not answer a token
    ├── JetonInvalide               a stored timestamp token does not prove what it should
    ├── SceauError                  the service's seal key (SEAL_PKCS12, SEAL_PKCS11_*) cannot be used
    ├── AntivirusError              clamd refused the scan or answered something unexpected
    │   ├── AntivirusStreamTooLong  the file is over clamd's StreamMaxLength (configuration)
    │   └── AntivirusUnavailable    transient: clamd could not be reached in time
    ├── DsError                     Démarches simplifiées refused a request (GraphQL errors, 4xx)
    │   ├── DsIndisponible          transient: DS answered 429/5xx or could not be reached, retries exhausted
    │   ├── DsFichierInvalide       a downloaded file is not what DS announced (size, checksum)
    │   └── CorrespondanceInvalide  a DS dossier's champs do not map to a demande (one entry per champ)
    └── WebhookError                a webhook is refused (URL, address) or its receiver failed
        └── WebhookIndisponible     transient: the receiver did not answer 2xx (the delivery is retried)

Third-party errors are translated at the adapter that meets them (``raise ... from exc``).
Codes are part of the contract with portals: messages may change, codes may not.

What an error means is decided here, once, by its code (an error raised with ``code=`` takes that
code's policy; the class only gives the default code). :data:`POLICY` gives every :class:`ErrorCode`
one :class:`Kind` and one HTTP status, and everything else derives from it:

    kind          what it is                            worker              API                 CLI
    refus         the caller's input, or something it   never retried       4xx (per code,      exit 1
                  named that does not exist or no                           see POLICY)
                  longer accepts it
    transitoire   a part of the service did not answer  retried (backoff)   503 + Retry-After   exit 3
    defaut        a defect or a configuration fault     not retried, trace  500, trace logged   exit 3
                  (retrying cannot help: someone must   logged
                  fix it)

The CLI gives a defect the same exit code as an outage (3, « échec du service ») so scripts keep one
rule: 1 means "change the request", 3 means "the service failed, look at the message"; the code in
``--json`` tells them apart. Exit 2 stays Click's bad usage (``usage``). The workers read
:attr:`ConumError.retried` (``workers/retry.py``), the API :func:`status_of`, the CLI
``entrypoints/_common.exit_code``; ``tests/unit/test_error_policy.py`` checks that they agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "ErrorCode",
    "Kind",
    "Policy",
    "POLICY",
    "policy_of",
    "status_of",
    "ConumError",
    "FieldError",
    "DemandeInvalide",
    "RulesError",
    "TemplateError",
    "ConversionError",
    "StorageError",
    "ObjectExists",
    "ObjectNotFound",
    "ChecksumMismatch",
    "ObjectLocked",
    "StorageUnavailable",
    "CatalogError",
    "ConventionConflict",
    "StructureFigee",
    "IdempotenceConflit",
    "ChangementRefuse",
    "DossierError",
    "RapportError",
    "InspectionUnavailable",
    "HorodatageUnavailable",
    "JetonInvalide",
    "SceauError",
    "AntivirusError",
    "AntivirusStreamTooLong",
    "AntivirusUnavailable",
    "DsError",
    "DsIndisponible",
    "DsFichierInvalide",
    "CorrespondanceInvalide",
    "WebhookError",
    "WebhookIndisponible",
    "DepotRefuse",
]


class ErrorCode(StrEnum):
    DEMANDE_INVALIDE = "demande_invalide"
    REGLES_INTROUVABLES = "regles_introuvables"
    REGLES_INVALIDES = "regles_invalides"
    MAJORATION_OUTRE_MER_MANQUANTE = "majoration_outre_mer_manquante"
    MODELE_INTROUVABLE = "modele_introuvable"
    MODELE_ABSENT = "modele_absent"
    MODELE_INVALIDE = "modele_invalide"
    CONVERSION_DELAI = "conversion_delai_depasse"
    CONVERSION_ECHEC = "conversion_echec"
    CONVERTISSEUR_INDISPONIBLE = "convertisseur_indisponible"
    OBJET_EXISTANT = "objet_existant"
    OBJET_INTROUVABLE = "objet_introuvable"
    OBJET_VERROUILLE = "objet_verrouille"
    SOMME_CONTROLE = "somme_de_controle_incorrecte"
    STOCKAGE_INDISPONIBLE = "stockage_indisponible"
    CATALOGUE = "catalogue"
    CATALOGUE_INCOHERENT = "catalogue_incoherent"
    CONVENTION_CONFLIT = "convention_conflit"
    CHANGEMENT_INVALIDE = "changement_invalide"
    CHANGEMENT_SANS_EFFET = "changement_sans_effet"
    VERSION_PERIMEE = "version_perimee"
    REQUETE_CONFLIT = "requete_conflit"
    CONVENTION_INTROUVABLE = "convention_introuvable"
    PLAN_INTROUVABLE = "plan_introuvable"
    CATALOGUE_REEL = "catalogue_reel"
    CONVENTION_CLOSE = "convention_close"
    PAIEMENT_INVALIDE = "paiement_invalide"
    DOSSIER_INTROUVABLE = "dossier_introuvable"
    COPIE_INTROUVABLE = "copie_introuvable"
    COPIE_NON_A_VERIFIER = "copie_non_a_verifier"
    TACHE_INTROUVABLE = "tache_introuvable"
    POSTE_INCONNU = "poste_inconnu"
    EVENEMENT_INVALIDE = "evenement_invalide"
    REGLE_GESTION_2025 = "regle_gestion_2025"
    PILOTAGE_INVALIDE = "pilotage_invalide"
    PIECE_INVALIDE = "piece_invalide"
    ANTIVIRUS_ERREUR = "antivirus_erreur"
    ANTIVIRUS_INDISPONIBLE = "antivirus_indisponible"
    ANTIVIRUS_TAILLE_DEPASSEE = "antivirus_taille_depassee"
    RAPPORT_ECHEC = "rapport_echec"
    INSPECTION_INDISPONIBLE = "inspection_indisponible"
    NON_AUTHENTIFIE = "non_authentifie"
    JETON_INVALIDE = "jeton_invalide"
    HORODATAGE_INDISPONIBLE = "horodatage_indisponible"
    JETON_HORODATAGE_INVALIDE = "jeton_horodatage_invalide"
    SCEAU_INDISPONIBLE = "sceau_indisponible"
    HORODATAGE_NON_CONFIGURE = "horodatage_non_configure"
    STRUCTURE_FIGEE = "structure_figee"
    IDEMPOTENCE_CONFLIT = "idempotence_conflit"
    PIECE_INTROUVABLE = "piece_introuvable"
    DECISION_INVALIDE = "decision_invalide"
    DECISION_IMPOSSIBLE = "decision_impossible"
    DOSSIER_INCOMPLET = "dossier_incomplet"
    DOSSIER_A_VERIFIER = "dossier_a_verifier"
    PAIEMENT_EXCEDENTAIRE = "paiement_excedentaire"
    DS_REFUS = "ds_refus"
    DS_INDISPONIBLE = "ds_indisponible"
    DS_FICHIER_INVALIDE = "ds_fichier_invalide"
    DS_CORRESPONDANCE = "ds_correspondance_invalide"
    WEBHOOK_REFUSE = "webhook_refuse"
    WEBHOOK_INDISPONIBLE = "webhook_indisponible"
    CONFIGURATION_INVALIDE = "configuration_invalide"
    # what the workers record for an exception that is not a ConumError
    ERREUR_INTERNE = "erreur_interne"
    DELAI_DEPASSE = "delai_depasse"
    MESSAGE_IGNORE = "message_ignore"
    # what the HTTP layer (and the CLI's usage errors) answer by themselves, before any service runs
    REQUETE_INVALIDE = "requete_invalide"
    DROIT_INSUFFISANT = "droit_insuffisant"
    HORS_PERIMETRE = "hors_perimetre"
    INTROUVABLE = "introuvable"
    STRUCTURE_INTROUVABLE = "structure_introuvable"
    VERSION_INTROUVABLE = "version_introuvable"
    WEBHOOK_INTROUVABLE = "webhook_introuvable"
    STRUCTURE_DEPARTEMENT = "structure_departement"
    METHODE_NON_PERMISE = "methode_non_permise"
    TROP_VOLUMINEUX = "trop_volumineux"
    TYPE_NON_ACCEPTE = "type_non_accepte"
    TROP_DE_REQUETES = "trop_de_requetes"
    CLIENT_PARTI = "client_parti"
    ERREUR_HTTP = "erreur_http"
    USAGE = "usage"


class Kind(StrEnum):
    """What an error means for whoever meets it (module docstring: retry, status, exit code)."""

    REFUS = "refus"
    TRANSITOIRE = "transitoire"
    DEFAUT = "defaut"


@dataclass(frozen=True)
class Policy:
    """One code's meaning: its kind and the HTTP status the API answers (4xx for a refusal, 503 for a
    transient failure, 500 for a defect)."""

    kind: Kind
    status: int

    @property
    def retried(self) -> bool:
        return self.kind is Kind.TRANSITOIRE


_E = ErrorCode
# Refusals by HTTP status: 404 unknown (or outside the token's départements), 409 in conflict with what
# is recorded, 422 a request that cannot be processed as written (fields, or a rule set, template or
# token it names that does not exist). 400 only where the status is Starlette's own or nobody reads it.
_REFUS: dict[int, tuple[ErrorCode, ...]] = {
    400: (_E.CLIENT_PARTI, _E.ERREUR_HTTP),
    401: (_E.NON_AUTHENTIFIE,),
    403: (_E.DROIT_INSUFFISANT, _E.HORS_PERIMETRE),
    404: (_E.CONVENTION_INTROUVABLE, _E.DOSSIER_INTROUVABLE, _E.TACHE_INTROUVABLE, _E.OBJET_INTROUVABLE,
          _E.PLAN_INTROUVABLE, _E.PIECE_INTROUVABLE, _E.COPIE_INTROUVABLE, _E.INTROUVABLE, _E.STRUCTURE_INTROUVABLE,
          _E.VERSION_INTROUVABLE, _E.WEBHOOK_INTROUVABLE),
    405: (_E.METHODE_NON_PERMISE,),
    409: (_E.CONVENTION_CONFLIT, _E.REQUETE_CONFLIT, _E.VERSION_PERIMEE, _E.CONVENTION_CLOSE,
          _E.CHANGEMENT_SANS_EFFET, _E.STRUCTURE_FIGEE, _E.DECISION_IMPOSSIBLE, _E.COPIE_NON_A_VERIFIER,
          _E.DOSSIER_INCOMPLET, _E.DOSSIER_A_VERIFIER, _E.PAIEMENT_EXCEDENTAIRE, _E.CATALOGUE_REEL,
          _E.STRUCTURE_DEPARTEMENT, _E.MESSAGE_IGNORE),
    413: (_E.TROP_VOLUMINEUX,),
    415: (_E.TYPE_NON_ACCEPTE,),
    422: (_E.DEMANDE_INVALIDE, _E.CHANGEMENT_INVALIDE, _E.POSTE_INCONNU, _E.PIECE_INVALIDE, _E.PAIEMENT_INVALIDE,
          _E.EVENEMENT_INVALIDE, _E.REGLE_GESTION_2025, _E.PILOTAGE_INVALIDE, _E.MAJORATION_OUTRE_MER_MANQUANTE,
          _E.IDEMPOTENCE_CONFLIT, _E.DECISION_INVALIDE, _E.REGLES_INTROUVABLES, _E.MODELE_INTROUVABLE,
          _E.JETON_INVALIDE, _E.DS_FICHIER_INVALIDE, _E.DS_CORRESPONDANCE, _E.WEBHOOK_REFUSE, _E.REQUETE_INVALIDE,
          _E.USAGE),
    429: (_E.TROP_DE_REQUETES,),
}
# A part of the service (or one it calls) did not answer, or answered a failure that may not recur.
_TRANSITOIRE = (_E.STOCKAGE_INDISPONIBLE, _E.CATALOGUE, _E.CONVERTISSEUR_INDISPONIBLE, _E.CONVERSION_DELAI,
                _E.CONVERSION_ECHEC, _E.ANTIVIRUS_INDISPONIBLE, _E.ANTIVIRUS_ERREUR, _E.INSPECTION_INDISPONIBLE,
                _E.HORODATAGE_INDISPONIBLE, _E.DS_INDISPONIBLE, _E.WEBHOOK_INDISPONIBLE, _E.DELAI_DEPASSE)
# Retrying cannot help: a rule set, template (or one missing from the deployment), seal key, clamd limit,
# DS token or mapping, setting to fix; stored bytes that are not what was written or a write that would
# replace them (content-addressed keys: only a defect or a tampered store gets there); a catalog whose
# rows or schema contradict themselves (a migration that would break keys); an exception conum did not expect.
_DEFAUT = (_E.REGLES_INVALIDES, _E.MODELE_INVALIDE, _E.MODELE_ABSENT, _E.CATALOGUE_INCOHERENT, _E.OBJET_EXISTANT,
           _E.OBJET_VERROUILLE, _E.SOMME_CONTROLE, _E.RAPPORT_ECHEC, _E.JETON_HORODATAGE_INVALIDE, _E.SCEAU_INDISPONIBLE, _E.HORODATAGE_NON_CONFIGURE,
           _E.ANTIVIRUS_TAILLE_DEPASSEE, _E.DS_REFUS, _E.CONFIGURATION_INVALIDE, _E.ERREUR_INTERNE)


def _policy() -> Mapping[ErrorCode, Policy]:
    table = [(code, Policy(Kind.REFUS, status)) for status, codes in _REFUS.items() for code in codes]
    table += [(code, Policy(Kind.TRANSITOIRE, 503)) for code in _TRANSITOIRE]
    table += [(code, Policy(Kind.DEFAUT, 500)) for code in _DEFAUT]
    policy = dict(table)
    twice = sorted(code for code in policy if sum(c is code for c, _ in table) > 1)
    missing = sorted(set(ErrorCode) - set(policy))
    if twice or missing:  # a new code without a meaning, or one with two: refuse to start
        raise RuntimeError(f"POLICY : codes en double {twice}, codes sans politique {missing}")
    return MappingProxyType(policy)


POLICY: Mapping[ErrorCode, Policy] = _policy()
_UNKNOWN = Policy(Kind.DEFAUT, 500)


def policy_of(code: str) -> Policy:
    """The policy of ``code`` (an :class:`ErrorCode` or its value); anything else is a defect."""
    try:
        return POLICY[ErrorCode(code)]
    except ValueError:
        return _UNKNOWN


def status_of(error: ConumError) -> int:
    """The HTTP status the API answers for ``error``."""
    return error.policy.status


class ConumError(Exception):
    """Base of every error conum raises on purpose. Raised without a code (here or in its class), it is
    a defect (``erreur_interne``): every error worth a meaning names its code."""

    code: ErrorCode = ErrorCode.ERREUR_INTERNE

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    @property
    def policy(self) -> Policy:
        return policy_of(self.code)

    @property
    def kind(self) -> Kind:
        return self.policy.kind

    @property
    def retried(self) -> bool:
        """A worker retries the job (with backoff) only for a transient error."""
        return self.policy.retried

    def to_dict(self) -> dict[str, object]:
        return {"code": str(self.code), "message": self.message}


@dataclass(frozen=True)
class FieldError:
    """One refused field of a payload: dotted path, stable code, French message."""

    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} : {self.message}" if self.field else self.message


class DemandeInvalide(ConumError):
    code = ErrorCode.DEMANDE_INVALIDE

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        lines = "\n".join(f"- {e}" for e in errors)
        super().__init__(f"La demande est refusée ({len(errors)} erreur(s)) :\n{lines}")

    @classmethod
    def single(cls, field: str, code: str, message: str) -> DemandeInvalide:
        return cls([FieldError(field, code, message)])

    def to_dict(self) -> dict[str, object]:
        return {
            "code": str(self.code),
            "message": self.message,
            "erreurs": [{"champ": e.field, "code": e.code, "message": e.message} for e in self.errors],
        }


class RulesError(ConumError):
    code = ErrorCode.REGLES_INVALIDES


class TemplateError(ConumError):
    code = ErrorCode.MODELE_INVALIDE


class ConversionError(ConumError):
    code = ErrorCode.CONVERSION_ECHEC


class StorageError(ConumError):
    code = ErrorCode.STOCKAGE_INDISPONIBLE

    def __init__(self, message: str, *, key: str | None = None, code: ErrorCode | None = None) -> None:
        super().__init__(message, code=code)
        self.key = key


class ObjectExists(StorageError):
    code = ErrorCode.OBJET_EXISTANT


class ObjectNotFound(StorageError):
    code = ErrorCode.OBJET_INTROUVABLE


class ChecksumMismatch(StorageError):
    code = ErrorCode.SOMME_CONTROLE


class ObjectLocked(StorageError):
    """The object is retained until ``retain_until``: it cannot be deleted or replaced before."""

    code = ErrorCode.OBJET_VERROUILLE

    def __init__(self, message: str, *, key: str | None = None, retain_until: datetime | None = None) -> None:
        super().__init__(message, key=key)
        self.retain_until = retain_until


class StorageUnavailable(StorageError):
    """Transient: retrying later may succeed."""

    code = ErrorCode.STOCKAGE_INDISPONIBLE


class CatalogError(ConumError):
    code = ErrorCode.CATALOGUE


class ConventionConflict(CatalogError):
    code = ErrorCode.CONVENTION_CONFLIT


class StructureFigee(CatalogError):
    """The structure has an issued convention: its facts (SIRET, nature, names, address…) change only
    through an avenant or an admin's audited correction (``conum structure corriger``). ``champs``: the
    differing fields, dotted (``structure.siret``, ``structure.representant.nom``)."""

    code = ErrorCode.STRUCTURE_FIGEE

    def __init__(self, structure_id: str, champs: list[str]) -> None:
        self.structure_id = structure_id
        self.champs = champs
        super().__init__(
            f"La structure {structure_id} a une convention émise : ses données ({', '.join(champs)}) ne changent "
            "que par un avenant ou une correction d'un administrateur (conum structure corriger).")

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "erreurs": [
            {"champ": champ, "code": str(self.code), "message": "diffère de la structure enregistrée"}
            for champ in self.champs]}


class IdempotenceConflit(ConumError):
    """An ``Idempotency-Key`` reused by the same token for a request with another body."""

    code = ErrorCode.IDEMPOTENCE_CONFLIT


class ChangementRefuse(ConumError):
    """A change request cannot be applied: invalid, without effect, based on a superseded version,
    a request id reused for another change, a convention unknown or already closed. Never retried.
    ``errors`` lists the refused fields of an invalid request."""

    code = ErrorCode.CHANGEMENT_INVALIDE

    def __init__(self, message: str, *, code: ErrorCode | None = None, errors: list[FieldError] | None = None) -> None:
        super().__init__(message, code=code)
        self.errors = errors or []

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        if self.errors:
            data["erreurs"] = [{"champ": e.field, "code": e.code, "message": e.message} for e in self.errors]
        return data


class DossierError(ConumError):
    code = ErrorCode.DOSSIER_INTROUVABLE


class RapportError(ConumError):
    code = ErrorCode.RAPPORT_ECHEC


class InspectionUnavailable(ConumError):
    """No child could be started, or the inspector is closed: not the file's fault (retry later)."""

    code = ErrorCode.INSPECTION_INDISPONIBLE


class HorodatageUnavailable(ConumError):
    """Transient: the TSA could not be reached, or answered an error or something that is not a token."""

    code = ErrorCode.HORODATAGE_INDISPONIBLE


class JetonInvalide(ConumError):
    """A timestamp token that is not one, covers another digest, or whose signature or TSA fails."""

    code = ErrorCode.JETON_HORODATAGE_INVALIDE


class SceauError(ConumError):
    """The seal's key or certificate cannot be loaded or used (configuration, token absent, wrong PIN)."""

    code = ErrorCode.SCEAU_INDISPONIBLE


class AntivirusError(ConumError):
    code = ErrorCode.ANTIVIRUS_ERREUR


class AntivirusStreamTooLong(AntivirusError):
    """clamd refused the file: larger than its ``StreamMaxLength``. Not transient: raise that limit
    to at least the largest piece size (``PIECE_MAX_MB``)."""

    code = ErrorCode.ANTIVIRUS_TAILLE_DEPASSEE

    def __init__(self, message: str, *, address: str, size: int) -> None:
        super().__init__(message)
        self.address = address
        self.size = size


class AntivirusUnavailable(AntivirusError):
    """Transient: retrying later may succeed."""

    code = ErrorCode.ANTIVIRUS_INDISPONIBLE


class DsError(ConumError):
    code = ErrorCode.DS_REFUS


class DsIndisponible(DsError):
    code = ErrorCode.DS_INDISPONIBLE


class DsFichierInvalide(DsError):
    code = ErrorCode.DS_FICHIER_INVALIDE


class CorrespondanceInvalide(DsError):
    """A DS dossier whose champs do not give a demande: every champ at fault, with its French message."""

    code = ErrorCode.DS_CORRESPONDANCE

    def __init__(self, number: int, errors: list[FieldError]) -> None:
        self.number = number
        self.errors = errors
        lines = "\n".join(f"- {e}" for e in errors)
        super().__init__(f"Dossier DS n° {number} : correspondance impossible avec une demande :\n{lines}")

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "erreurs": [{"champ": e.field, "code": e.code, "message": e.message}
                                                 for e in self.errors]}


class WebhookError(ConumError):
    code = ErrorCode.WEBHOOK_REFUSE


class WebhookIndisponible(WebhookError):
    code = ErrorCode.WEBHOOK_INDISPONIBLE


class DepotRefuse(ConumError):
    """A signed copy refused before anything is staged. ``motif`` says why in one word (the service's
    ``MotifRefus``); the code is the API's (an empty file is a ``requete_invalide`` on its field)."""

    def __init__(self, motif: str, message: str, *, code: ErrorCode) -> None:
        super().__init__(message, code=code)
        self.motif = motif
