"""The GraphQL documents the connector sends, with DS's own names (``app/graphql/schema.graphql`` of
demarches-simplifiees.fr). Typed values are aliased (``checked``, ``oui``, ``entier``): two champ
types whose ``value`` differ in type cannot share the name in one selection."""

from __future__ import annotations

__all__ = ["DOSSIERS", "DOSSIER", "ETAT", "CREATE_DIRECT_UPLOAD", "ENVOYER_MESSAGE", "ANNOTATION_TEXT", "ACCEPTER",
           "MUTATIONS", "PAGE_SIZE"]

PAGE_SIZE = 100  # DS's maximum per page

_FRAGMENTS = """
fragment FileFields on File { filename byteSizeBigInt checksum contentType url createdAt }
fragment ChampFields on Champ {
  __typename id champDescriptorId label stringValue
  ... on DateChamp { date }
  ... on CheckboxChamp { checked: value }
  ... on YesNoChamp { oui: value }
  ... on IntegerNumberChamp { entier: value }
  ... on PieceJustificativeChamp { files { ...FileFields } }
}
fragment DossierFields on Dossier {
  id number state dateDerniereModification
  usager { email }
  champs {
    ...ChampFields
    ... on RepetitionChamp { rows { id champs { ...ChampFields } } }
  }
  annotations { id champDescriptorId label }
  messages { id email body createdAt attachments { ...FileFields } }
}
"""

DOSSIERS = """
query dossiersModifies($demarche: Int!, $updatedSince: ISO8601DateTime, $after: String, $first: Int) {
  demarche(number: $demarche) {
    number
    dossiers(updatedSince: $updatedSince, after: $after, first: $first) {
      pageInfo { hasNextPage endCursor }
      nodes { ...DossierFields }
    }
  }
}
""" + _FRAGMENTS

DOSSIER = """
query unDossier($number: Int!) { dossier(number: $number) { ...DossierFields } }
""" + _FRAGMENTS

CREATE_DIRECT_UPLOAD = """
mutation televerser($input: CreateDirectUploadInput!) {
  createDirectUpload(input: $input) { directUpload { url headers blobId signedBlobId } }
}
"""

ENVOYER_MESSAGE = """
mutation envoyerMessage($input: DossierEnvoyerMessageInput!) {
  dossierEnvoyerMessage(input: $input) { message { id } errors { message } }
}
"""

ANNOTATION_TEXT = """
mutation annoter($input: DossierModifierAnnotationTextInput!) {
  dossierModifierAnnotationText(input: $input) { annotation { id } errors { message } }
}
"""

ACCEPTER = """
mutation accepter($input: DossierAccepterInput!) {
  dossierAccepter(input: $input) { dossier { id state } errors { message } }
}
"""

ETAT = """
query etatDossier($number: Int!) {
  dossier(number: $number) { id number state annotations { id champDescriptorId label stringValue } messages { body } }
}
"""

# The mutations the services send, by the name of their payload (``DsClient.muter``).
MUTATIONS = {"dossierEnvoyerMessage": ENVOYER_MESSAGE, "dossierModifierAnnotationText": ANNOTATION_TEXT,
             "dossierAccepter": ACCEPTER}
