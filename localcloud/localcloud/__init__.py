"""localcloud: a local stand-in for the AWS + EKS surface eksnet uses (moto + additions)."""
