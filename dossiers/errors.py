"""The exceptions conum raises, in one tree.

    ConumError                      base: carries a stable ``code`` and a French ``message``
    ├── DemandeInvalide             the demande JSON is refused (one entry per bad field)
    ├── RulesError                  a rule set is missing or malformed
    ├── TemplateError               a template is missing, broken or uses an unknown variable
    ├── ConversionError             DOCX -> PDF failed (timeout, LibreOffice crash, no converter)
    ├── StorageError                the document store failed
    │   ├── ObjectExists            a write would replace a different object (never allowed)
    │   ├── ObjectNotFound          no object under that key
    │   ├── ChecksumMismatch        the bytes read back are not the bytes written
    │   ├── ObjectLocked            under retention (object lock): no delete or replacement before its date
    │   └── StorageUnavailable      transient: the store could not be reached
    ├── CatalogError                the catalog refused an operation
    │   ├── ConventionConflict      a different demande already produced this convention
    │   └── StructureFigee          a demande would rewrite the structure of an issued convention
    ├── ChangementRefuse            a change request (avenant, renouvellement, résiliation) is refused
    ├── DossierError                a dossier request is refused (unknown dossier or poste, bad kind)
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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "ErrorCode",
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
]


class ErrorCode(StrEnum):
    DEMANDE_INVALIDE = "demande_invalide"
    REGLES_INTROUVABLES = "regles_introuvables"
    REGLES_INVALIDES = "regles_invalides"
    MAJORATION_OUTRE_MER_MANQUANTE = "majoration_outre_mer_manquante"
    MODELE_INTROUVABLE = "modele_introuvable"
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


class ConumError(Exception):
    """Base of every error conum raises on purpose."""

    code: ErrorCode = ErrorCode.CATALOGUE

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

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
