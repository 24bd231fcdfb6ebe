"""People in partner organisations: members who sign in with phone + code and act for a partner."""
