"""Deep Weight Factorization: factorize, initialize and collapse a network (`factorization`), its products
(`product`, formed once per forward by `composer`) and the fused factor step (`step`, compiled by
`compile`)."""
