from posada_nlp.main import main

main()
