"""Double-entry ledger of program funds: contributions, holds, disbursements, recoveries."""
