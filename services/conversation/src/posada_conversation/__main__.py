from posada_conversation.main import main

main()
